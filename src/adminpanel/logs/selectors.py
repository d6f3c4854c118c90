"""Reading the audit log, for the Logs page and the API (needs Logs: View), narrowed to the
account's Domains scope (mail.scope)."""

from datetime import datetime

from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.permissions import require
from adminpanel.audit import words
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.models import Event
from adminpanel.mail import scope


def events(
    actor: Account,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor_name: str = "",
    event: str = "",
    text: str = "",
) -> QuerySet[Event]:
    """Newest first, filtered by time range, actor (case-insensitive), event type and a text
    found in the event's words, actor, IP, browser or details."""
    require(actor, "logs", Level.VIEW)
    query = scope.narrow_events(Event.objects.all(), actor)
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    if actor_name.strip():
        query = query.filter(actor_name__iexact=actor_name.strip())
    if event.strip():
        query = query.filter(event=event.strip())
    if text.strip():
        query = _containing(query, text.strip())
    return query.order_by("-at", "-id")


def _containing(query: QuerySet[Event], text: str) -> QuerySet[Event]:
    found = (
        Q(actor_name__icontains=text)
        | Q(event__icontains=text)
        | Q(event__in=words.events_matching(text))
        | Q(ip__icontains=text)
        | Q(user_agent__icontains=text)
        | Q(details_text__icontains=text)
    )
    return query.annotate(details_text=Cast("details", TextField())).filter(found)


def event_types() -> list[str]:
    """Every name the catalogue knows, for the filter: from the catalogue, not a DISTINCT over
    a million rows."""
    return sorted(AuditEvent)
