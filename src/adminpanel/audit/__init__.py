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
    event: str,
    *,
    actor=None,
    request: HttpRequest | None = None,
    actor_name: str = "",
    at: datetime | None = None,
    remote_ip: str = "",
    **details,
):
    """Append one event with time (UTC), actor, client IP, user agent and details.

    Secrets, codes and passwords must never be passed as details. The model is looked up in
    the app registry because this package is imported while Django loads its apps. `at` and
    `remote_ip`: an event that happened elsewhere (a mail login the mail host reported).
    """
    ip = client_ip(request) if request is not None else remote_ip[:64]
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    signed_in = user is not None and user.is_authenticated and session is not None
    agent = request.META.get("HTTP_USER_AGENT", "")[:512] if request is not None else ""
    return app_registry.get_model("audit", "Event").objects.create(
        at=at or clock.now(),
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
