"""Bearer-token authentication: parse the header, call the one service, map its refusal."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from adminpanel import clock
from adminpanel.accounts.models import ApiKey, ApiToken
from adminpanel.api import services
from adminpanel.api.errors import NOT_AUTHENTICATED, ApiError
from adminpanel.net import client_ip


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token or API key>`; request.auth becomes the live ApiToken or
    ApiKey (with .account), and request.api_key the key, when it is one."""

    def __call__(self, request: HttpRequest) -> ApiToken | ApiKey:
        header = request.headers.get("Authorization", "")
        if not header.strip():
            raise ApiError(401, "not_authenticated", NOT_AUTHENTICATED)
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "invalid_token", "Use the Bearer scheme: `Bearer <token>`.")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | ApiKey:
        # Refused propagates to the handler in errors.py (401 or 403).
        found = services.authenticate(
            token, ip=client_ip(request), now=clock.now(), request=request
        )
        if isinstance(found, ApiKey):
            request.api_key = found  # type: ignore[attr-defined]  # audit.record names it
        return found
