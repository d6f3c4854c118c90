"""The one error format of the API: {"error": CODE, "message": TEXT} (+ "fields" for bad input).

Every exception a service raises is translated here, at the edge, and nowhere else.
"""

import logging
from collections.abc import Iterable

from django.http import Http404, HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from adminpanel.accounts.permissions import NotPermitted
from adminpanel.errors import Invalid, NotFound, Refused

logger = logging.getLogger("adminpanel.api")

# The HTTP status of each reason a service's Refused may carry to the API (403 for others).
REFUSED_STATUS = {
    "invalid_credentials": 401,
    "invalid_token": 401,
    "too_many_attempts": 429,
    "throttled": 429,
    "ip_not_allowed": 403,
    "api_access_denied": 403,
    "two_factor_enabled": 403,
    "two_factor_required": 403,
    "two_factor_not_enabled": 409,
    "reauthentication_required": 403,
    "api_key_not_logged_out": 400,
    "old_dkim_keys": 409,
}
NOT_AUTHENTICATED = "Send the header `Authorization: Bearer <token>` with a token from /auth/login."
NOT_FOUND = "There is nothing at this address."


class ApiError(Exception):
    """Raised at the edge (auth, parsing) when a request is refused before any service runs."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.fields = fields
        self.headers = headers or {}


def error_response(
    status: int,
    error: str,
    message: str,
    *,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    body: dict[str, object] = {"error": error, "message": message}
    if fields:
        body["fields"] = fields
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _field_name(loc: Iterable[object]) -> str:
    """("body", "payload", "name") → "name"; ("query", "limit") → "limit"; indexes kept."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    if parts[:1] == ["payload"]:
        parts = parts[1:]  # the body as a whole when nothing follows
    return ".".join(parts)[:100] or "body"  # a client's own key names, kept short


def _validation_fields(errors: list[dict]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in errors:
        name = _field_name(error.get("loc", ()))
        # pydantic messages never echo the input; the input may be a secret.
        message = str(error.get("msg", "Invalid value."))[:200]
        if name == "body":
            message = "Send a JSON object as the request body."
        fields.setdefault(name, message)
    return fields


def install(api: NinjaAPI) -> None:
    """Register the translation of every exception the API may meet."""

    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError) -> JsonResponse:
        return error_response(
            exc.status, exc.error, exc.message, fields=exc.fields, headers=exc.headers
        )

    @api.exception_handler(Refused)
    def _refused(request: HttpRequest, exc: Refused) -> JsonResponse:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
        return error_response(
            REFUSED_STATUS.get(exc.reason, 403), exc.reason, exc.message, headers=headers
        )

    @api.exception_handler(NotPermitted)
    def _not_permitted(request: HttpRequest, exc: NotPermitted) -> JsonResponse:
        return error_response(403, "permission_denied", str(exc) or "Not permitted.")

    @api.exception_handler(Invalid)
    def _invalid(request: HttpRequest, exc: Invalid) -> JsonResponse:
        fields = {exc.field: exc.message} if exc.field else None
        return error_response(422, "validation_error", exc.message, fields=fields)

    @api.exception_handler(NotFound)
    def _not_found(request: HttpRequest, exc: NotFound) -> JsonResponse:
        return error_response(404, "not_found", NOT_FOUND)

    @api.exception_handler(Http404)
    def _http404(request: HttpRequest, exc: Http404) -> JsonResponse:
        return error_response(404, "not_found", NOT_FOUND)

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError) -> JsonResponse:
        fields = _validation_fields(exc.errors)
        names = ", ".join(sorted(fields))
        return error_response(
            422, "validation_error", f"Check these fields: {names}.", fields=fields
        )

    @api.exception_handler(AuthenticationError)
    def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> JsonResponse:
        return error_response(401, "not_authenticated", NOT_AUTHENTICATED)

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> JsonResponse:
        # ninja wraps a body the parser refused in HttpError(400); our parser says why.
        cause = exc.__cause__
        if isinstance(cause, ApiError):
            return _api_error(request, cause)
        if exc.status_code == 400:
            return error_response(400, "malformed_json", "The request body is not valid JSON.")
        return error_response(exc.status_code, "error", exc.message)

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> JsonResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return error_response(500, "server_error", "Something went wrong. Please try again.")
