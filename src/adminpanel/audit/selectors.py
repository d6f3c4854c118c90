"""Reading the audit log, for the Logs page and the API (needs Logs: View)."""

from datetime import datetime

from django.db.models import QuerySet

from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.permissions import require
from adminpanel.audit.models import Event


def events(
    actor: Account,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor_name: str = "",
    event: str = "",
) -> QuerySet[Event]:
    """Newest first, filtered by time range, actor (case-insensitive) and event type."""
    require(actor, "logs", Level.VIEW)
    query = Event.objects.all()
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    if actor_name.strip():
        query = query.filter(actor_name__iexact=actor_name.strip())
    if event.strip():
        query = query.filter(event=event.strip())
    return query.order_by("-at", "-id")


def event_types() -> list[str]:
    return list(Event.objects.order_by("event").values_list("event", flat=True).distinct())
