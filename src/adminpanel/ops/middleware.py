import time
import uuid

from adminpanel.net import client_ip
from adminpanel.ops import logs, metrics


def _account(request) -> str:
    """The account that made the request: a web session's, or an API token's.

    Only what the request already loaded: asking now could reach a database that just failed.
    """
    user = getattr(request, "_cached_user", None)  # set by django.contrib.auth once loaded
    if user is not None and user.is_authenticated:
        return user.username
    account = getattr(getattr(request, "auth", None), "account", None)
    return getattr(account, "username", "") or ""


class RequestLogMiddleware:
    """Outermost: gives each request an id (the X-Request-ID answer header), then counts,
    times and logs it (one line a request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = uuid.uuid4().hex
        token = logs.REQUEST_ID.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            logs.REQUEST_ID.reset(token)
        seconds = time.perf_counter() - started
        response["X-Request-ID"] = request_id
        metrics.observe_request(request.method, response.status_code, seconds)
        logs.log_request(
            {
                "type": "request",
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "account": _account(request),
                "ip": client_ip(request),
            }
        )
        return response
