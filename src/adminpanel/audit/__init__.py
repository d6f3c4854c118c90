"""The audit log. Services call `record`; views never do."""


def record(event: str, *, actor=None, request=None, actor_name: str = "", **details):
    """Append one event. Secrets, codes and passwords must never be passed as details."""
    from adminpanel.audit.services import record as _record

    return _record(event, actor=actor, request=request, actor_name=actor_name, **details)
