"""/healthz, /readyz and /metrics (SPEC §13): small views, no session, no login."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from adminpanel.net import client_ip, ip_allowed
from adminpanel.ops import metrics

LOOPBACK = ["127.0.0.0/8", "::1/128"]


@require_safe
def healthz_view(request):
    """The process answers."""
    return JsonResponse({"status": "ok"})


@require_safe
def readyz_view(request):
    """The database answers and holds every migration of this version; 503 otherwise."""
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return JsonResponse({"status": "database_unavailable"}, status=503)
    if pending:
        return JsonResponse({"status": "migrations_pending", "pending": len(pending)}, status=503)
    return JsonResponse({"status": "ready"})


@require_safe
def metrics_view(request):
    """Prometheus text format, for loopback and ADMINPANEL_METRICS_ALLOWED_IPS only."""
    if not ip_allowed(client_ip(request), LOOPBACK + settings.METRICS_ALLOWED_IPS):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
