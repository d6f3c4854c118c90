"""GET /logs: the audit log, newest first (Logs: View)."""

from django.http import HttpRequest
from ninja import Query, Router

from adminpanel.api.routers import ANY, actor, page
from adminpanel.api.schemas import EventOut, EventPage, LogQuery, responses
from adminpanel.logs import selectors

router = Router(tags=["logs"])


@router.get("", response=responses({200: EventPage}, *ANY))
def list_events(request: HttpRequest, query: Query[LogQuery]) -> EventPage:
    """Filter by time (`since` inclusive, `until` exclusive, UTC when no offset), actor, event."""
    found = selectors.events(
        actor(request),
        since=query.since,
        until=query.until,
        actor_name=query.actor,
        event=query.event,
    )
    return EventPage(**page(found, limit=query.limit, offset=query.offset, shape=EventOut.of))
