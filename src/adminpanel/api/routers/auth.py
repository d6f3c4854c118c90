"""POST /auth/login, POST /auth/logout, GET /me, GET /health."""

from django.http import HttpRequest
from ninja import Router, Status

from adminpanel import clock
from adminpanel.api import services
from adminpanel.api.routers import ANY, actor
from adminpanel.api.schemas import HealthOut, LoginIn, MeOut, TokenOut, responses
from adminpanel.net import client_ip

router = Router(tags=["auth"])


@router.post("/auth/login", auth=None, response=responses({200: TokenOut}, *ANY, 429))
def login(request: HttpRequest, payload: LoginIn) -> TokenOut:
    """A bearer token for 1 hour. Accounts with 2FA enabled are refused (`two_factor_enabled`)."""
    issued = services.login(
        payload.username,
        payload.password,
        ip=client_ip(request),
        now=clock.now(),
        request=request,
    )
    return TokenOut(token=issued.token, expires_at=issued.expires_at)


@router.post("/auth/logout", response=responses({204: None}, *ANY))
def logout(request: HttpRequest) -> Status:
    """Revoke the bearer token of this request (an API key is refused: the Admin revokes keys)."""
    services.log_out(request.auth, now=clock.now(), request=request)  # type: ignore[attr-defined]
    return Status(204, None)


@router.get("/me", response=responses({200: MeOut}, *ANY))
def me(request: HttpRequest) -> MeOut:
    """The account of the token or API key: its access and permissions (and the key's)."""
    return MeOut.of(actor(request), key=getattr(request, "api_key", None))


@router.get("/health", auth=None, response=responses({200: HealthOut}, 400, 413))
def health(request: HttpRequest) -> HealthOut:
    """Liveness, without authentication or database."""
    return HealthOut(status="ok")
