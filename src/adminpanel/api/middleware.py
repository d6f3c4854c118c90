"""Guards every /api/ request before any view reads it, and keeps every answer JSON.

- bodies over 1 MB (DATA_UPLOAD_MAX_MEMORY_SIZE, Django's guard of form parsing only): 413;
- NUL characters in the query string: 400 (no database may meet them);
- an error answered by Django itself (unknown route 404, wrong method 405, a 400 or a 500
  from outside ninja) is rewritten as {"error": CODE, "message": TEXT};
- no answer is cached.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from adminpanel.api.errors import error_response
from adminpanel.middleware import body_limit, declared_length

PREFIX = "/api/"

GENERIC = {
    400: ("bad_request", "The request could not be understood."),
    403: ("forbidden", "Not allowed."),
    404: ("not_found", "There is no API endpoint at this address."),
    405: ("method_not_allowed", "This endpoint does not accept this HTTP method."),
    413: ("request_too_large", "The request body is larger than 1 MB."),
    500: ("server_error", "Something went wrong. Please try again."),
}


def _refusal(request: HttpRequest) -> HttpResponse | None:
    length = declared_length(request)
    if length is None:
        return error_response(400, "bad_request", "The Content-Length header is not a number.")
    limit = body_limit(request)
    if length > limit or (length and len(request.body) > limit):  # reads at most length bytes
        megabytes = limit // (1024 * 1024)
        return error_response(
            413, "request_too_large", f"The request body is larger than {megabytes} MB."
        )
    if "\x00" in request.META.get("QUERY_STRING", "") or any(
        "\x00" in key or "\x00" in value for key, value in request.GET.items()
    ):
        return error_response(400, "bad_request", "The query string contains a NUL character.")
    return None


def _as_json(response: HttpResponse) -> HttpResponse:
    if response.status_code < 400 or response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return response
    status = response.status_code
    error, message = GENERIC.get(status, ("error", "The request failed."))
    converted = error_response(status, error, message)
    if response.has_header("Allow"):
        converted["Allow"] = response["Allow"]
    return converted


class ApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        response = _refusal(request) or self.get_response(request)
        response = _as_json(response)
        response.headers.setdefault("Cache-Control", "no-store")
        return response
