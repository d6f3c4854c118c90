from django.http import HttpRequest

from adminpanel import clock
from adminpanel.audit.models import Event
from adminpanel.net import client_ip


def record(
    event: str, *, actor=None, request: HttpRequest | None = None, actor_name: str = "", **details
) -> Event:
    """Append one event with time (UTC), actor, client IP, user agent and details."""
    ip = client_ip(request) if request is not None else ""
    agent = request.META.get("HTTP_USER_AGENT", "")[:512] if request is not None else ""
    return Event.objects.create(
        at=clock.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_name=(actor.username if actor is not None else actor_name)[:150],
        event=event,
        ip=ip,
        user_agent=agent,
        details=details,
    )
