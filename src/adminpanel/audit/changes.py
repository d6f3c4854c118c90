"""What an edit changed, for the log (never pass a secret), and the one way to apply an edit to
a row and log it (`update_and_log`)."""

from collections.abc import Callable, Mapping

from django.db.models import Model

from adminpanel import audit
from adminpanel.audit.catalogue import AuditEvent


def edits(before: dict, after: dict) -> dict:
    """{field: {"from": old, "to": new}} for each field of `after` whose value changed."""
    return {
        field: {"from": before.get(field), "to": value}
        for field, value in after.items()
        if before.get(field) != value
    }


def update_and_log(
    row: Model,
    changes: Mapping[str, object],
    event: AuditEvent,
    *,
    log_unchanged: bool = False,
    unlogged: Mapping[str, object] | None = None,
    shown: Mapping[str, Callable[[object], object]] | None = None,
    elsewhere: Mapping[str, dict] | None = None,
    kept: bool = True,
    then: Callable[[], object] | None = None,
    **record,
) -> dict:
    """Set `changes` (field: new value) on the row, write the fields whose value changed, and
    record `event` with their edits; returns the edits. Nothing changed: no write, and no event
    unless `log_unchanged`. Call it inside the caller's transaction, on the caller's row (locked
    where its rules need it).

    - `unlogged`: fields set and written every time but never in the edits (a password hash,
      a timestamp, a field another detail names);
    - `shown`: how the log shows a field's old and new values (a date as text, a long text
      as "…"), compared as they are;
    - `elsewhere`: edits of what the row does not hold (a Sub-Admin's domains), logged with;
    - `kept=False`: the row is deleted instead of written (a setting switched off leaves no
      row); a row not stored yet is inserted whole when kept;
    - `then`: runs after the write and before the event (what the change ends, logged first);
    - `record`: audit.record's arguments (actor, request, the event's details).
    """
    changed = edits({field: getattr(row, field) for field in changes}, dict(changes))
    for field in changed:
        setattr(row, field, changes[field])
    for field, value in (unlogged or {}).items():
        setattr(row, field, value)
    _write(row, [*changed, *(unlogged or {})], kept)
    if then is not None:
        then()
    logged = {field: _shown(shown or {}, field, edit) for field, edit in changed.items()}
    logged.update(elsewhere or {})
    if logged or log_unchanged:
        audit.record(event, **record, edits=logged)
    return logged


def _shown(shown: Mapping[str, Callable[[object], object]], field: str, edit: dict) -> dict:
    show = shown.get(field)
    return edit if show is None else {"from": show(edit["from"]), "to": show(edit["to"])}


def _write(row: Model, fields: list[str], kept: bool) -> None:
    stored = not row._state.adding
    if not kept:
        # A query, not row.delete(): that would also empty the caller's row's primary key.
        if stored:
            type(row)._default_manager.filter(pk=row.pk).delete()
    elif not stored:
        row.save()
    elif fields:
        row.save(update_fields=fields)
