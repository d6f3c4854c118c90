"""The audit log. Services call `record`; views never do."""

from datetime import datetime, timedelta

from django.apps import apps as app_registry  # not `apps`: that is also our submodule
from django.http import HttpRequest

from adminpanel import clock
from adminpanel.net import client_ip
from adminpanel.sessions import TWO_FACTOR

SIGN_INS = ("web_login", "api_login")  # complete sign-ins (after the second factor, if any)
KNOWN_ADDRESS_DAYS = 90


def record(
    event: str, *, actor=None, request: HttpRequest | None = None, actor_name: str = "", **details
):
    """Append one event with time (UTC), actor, client IP, user agent and details.

    Secrets, codes and passwords must never be passed as details. The model is looked up in
    the app registry because this package is imported while Django loads its apps.
    """
    key = getattr(request, "api_key", None)  # set by the API's bearer check
    if key is not None:
        # A change made with an API key names the key (SPEC §17), whichever service logs it.
        details = {"api_key": key.name, "api_key_id": key.pk, **details}
    ip = client_ip(request) if request is not None else ""
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    signed_in = user is not None and user.is_authenticated and session is not None
    agent = request.META.get("HTTP_USER_AGENT", "")[:512] if request is not None else ""
    return app_registry.get_model("audit", "Event").objects.create(
        at=clock.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_name=(actor.username if actor is not None else actor_name)[:150],
        event=event,
        ip=ip,
        user_agent=agent,
        details=details,
        session_2fa=bool(session.get(TWO_FACTOR)) if signed_in else None,
    )


def signed_in_from(account, ip: str, *, now: datetime) -> bool:
    """Whether the account completed a sign-in from this IP address in the last 90 days."""
    if not ip or account is None or not account.pk:
        return False
    return (
        app_registry.get_model("audit", "Event")
        .objects.filter(
            actor_id=account.pk,
            event__in=SIGN_INS,
            ip=ip,
            at__gte=now - timedelta(days=KNOWN_ADDRESS_DAYS),
            at__lte=now,
        )
        .exists()
    )
