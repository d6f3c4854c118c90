"""What happens at the edge when an audit event is recorded: counted and logged, on commit."""

from django.db import transaction

from adminpanel.ops import logs, metrics


def event_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created:
        return
    fields = {
        "type": "event",
        "event": instance.event,
        "actor": instance.actor_name,
        "ip": instance.ip,
        "details": instance.details,
        "request_id": logs.REQUEST_ID.get(),
    }
    # Only events that are kept: one rolled back with its transaction never happened.
    transaction.on_commit(lambda: _observe(fields))


def _observe(fields: dict) -> None:
    metrics.observe_event(fields["event"], fields["details"])
    logs.log_event(fields)
