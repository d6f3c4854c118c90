"""The per-person code state under the one lock: replay step, failure streak and the wait.

Every function here runs inside the transaction of twofactor's services that locked the
person's row (ARCHITECTURE "Security state: one mechanism").
"""

import functools
import math
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import Model

from adminpanel import audit, clock, prepared
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.people.kinds import SignsIn, Unread
from adminpanel.people.models import Person
from adminpanel.twofactor.factors import Factor, Locked
from adminpanel.twofactor.models import CodeState

THROTTLE_AFTER = 5
LOCK_AFTER = 100
FIRST_WAIT_SECONDS = 60
MAX_WAIT_SECONDS = 3600


def wait_after(failures: int) -> int:
    """Seconds to wait after this many consecutive failures: 0, then 1 min doubling to 1 h."""
    if failures < THROTTLE_AFTER:
        return 0
    return min(FIRST_WAIT_SECONDS * 2 ** (failures - THROTTLE_AFTER), MAX_WAIT_SECONDS)


def throttled_message(seconds: float) -> str:
    return f"Too many failed attempts. Try again in {clock.minutes(seconds)}."


LOCKED = "Too many failed attempts: only a recovery code can unlock this account now."


class _LockQueries(NamedTuple):
    lock: str | None  # None on SQLite, whose IMMEDIATE transaction has locked already
    read: str
    param_types: tuple[str, ...]  # of the person's id (the lock's), then the read's parameters
    row_types: tuple[str, ...]  # of the read's columns


@functools.cache
def _lock_queries(factors: tuple[Factor, ...], identity: type[Model] | None = None) -> _LockQueries:
    """The statement that locks a person's row, and the SELECT that then reads its code state
    (prepared.select_list's columns), which factors it has (with each one's locked_column)
    and, for an Unread, its `identity` row.

    Two statements, not one: PostgreSQL re-reads only the locked row of a query that waited
    for its lock, so columns joined to it would be the ones from before the wait (a code just
    accepted would pass again). They go in one round trip (prepared.in_turn), each on its own
    snapshot. Built from the models once per process: the ORM would compile them on every code
    step, which cost more than running them (benchmarks/code.py, README).
    """
    quote = connection.ops.quote_name
    person, key = quote(Person._meta.db_table), quote(Person._meta.pk.column)
    person_key_type = Person._meta.pk.rel_db_type(connection)
    columns = [prepared.select_list(CodeState, "s")]
    row_types = [Person._meta.get_field("kind").db_type(connection)]
    row_types += prepared.column_types(CodeState)
    for factor in factors:
        meta = factor.model._meta
        # Only quoted names from the models go into the text; the person's id is a parameter.
        rows = (
            f"FROM {quote(meta.db_table)} WHERE {quote(meta.get_field('person').column)} = p.{key}"
        )
        if factor.locked_column:  # one row per person: its value, NULL without one
            field = meta.get_field(factor.locked_column)
            columns.append(f"(SELECT {quote(field.column)} {rows})")
            row_types.append(field.db_type(connection))
        else:
            columns.append(f"EXISTS (SELECT 1 {rows})")
            row_types.append("boolean")
    joined = ""
    read_types = []
    if identity is not None:  # the row by its key (the first parameter), if it is the person's
        meta = identity._meta
        columns.append(prepared.select_list(identity, "i"))
        row_types += prepared.column_types(identity)
        read_types.append(meta.pk.rel_db_type(connection))
        joined = (
            f" LEFT JOIN {quote(meta.db_table)} i ON i.{quote(meta.pk.column)} = %s"
            f" AND i.{quote(meta.get_field('person').column)} = p.{key}"
        )
    read = (
        f"SELECT p.{quote('kind')}, {', '.join(columns)} "  # noqa: S608
        f"FROM {person} p LEFT JOIN {quote(CodeState._meta.db_table)} s "
        f"ON s.{quote(CodeState._meta.pk.column)} = p.{key}{joined} WHERE p.{key} = %s"
    )
    read_types.append(person_key_type)
    lock = None
    if connection.features.has_select_for_update:
        lock = f"SELECT {key} FROM {person} WHERE {key} = %s FOR UPDATE"  # noqa: S608
    return _LockQueries(lock, read, (person_key_type, *read_types), tuple(row_types))


def lock(who: SignsIn | Unread, factors: tuple[Factor, ...]) -> Locked | None:
    """Lock the person's row (the one lock of ARCHITECTURE.md), then read under it its code
    state and its factors (of `factors`), and an Unread's row (Locked.who; else `who`). None
    when an Unread's person is gone."""
    identity = who.model if isinstance(who, Unread) else None
    queries = _lock_queries(factors, identity)
    person_id = who.person_id
    db = prepared.database()
    read_params = [who.pk, person_id] if identity else [person_id]
    if queries.lock is None:
        row = prepared.first_row(queries.read, read_params, db)
    else:
        row = prepared.in_turn(
            (queries.lock, queries.read),
            [person_id, *read_params],
            param_types=queries.param_types,
            row_types=queries.row_types,
            db=db,
        )
    if row is None:
        if identity is not None:
            return None
        raise Person.DoesNotExist(person_id)
    kind, found = row[0], list(row[1:])
    if identity is not None:
        own_width = len(identity._meta.concrete_fields)
        found, own = found[:-own_width], found[-own_width:]
        who = prepared.from_row(identity, own) if own[0] is not None else None
    person = Person.from_db(db.alias, ["id", "kind"], [person_id, kind])
    width = len(CodeState._meta.concrete_fields)
    if found[0] is None:  # its first check: the row is made under the lock
        state = CodeState.objects.create(person_id=person_id)
    else:
        state = prepared.from_row(CodeState, found[:width])
    flags = found[width:]
    has = [f for f, flag in zip(factors, flags, strict=True) if flag]
    values = {f.method: flag for f, flag in zip(factors, flags, strict=True) if f.locked_column}
    return Locked(person, state, has, values, who)


def last_step(person_id: int) -> int | None:
    """The last accepted step, read without the lock (a first look only)."""
    state = CodeState.objects.filter(person_id=person_id).first()
    return state.last_step if state else None


def waiting(state: CodeState, now: datetime, context: dict) -> Refused | None:
    """The refusal of an attempt made during the wait (not checked, not counted), or None."""
    if state.retry_at is None or state.retry_at <= now:
        return None
    seconds = (state.retry_at - now).total_seconds()
    audit.record(
        AuditEvent.TWO_FACTOR_THROTTLED,
        refused_unchecked=True,
        wait_seconds=math.ceil(seconds),
        failures=state.failures,
        **context,
    )
    return Refused("throttled", throttled_message(seconds), math.ceil(seconds))


def locked_out(state: CodeState) -> bool:
    """After this many failures only a recovery code is accepted."""
    return state.failures >= LOCK_AFTER


def fail(state: CodeState, rejection: Refused, now: datetime, **context) -> Refused:
    """Count a failed attempt, start the wait it earns, and say so."""
    state.failures += 1
    wait = wait_after(state.failures)
    state.retry_at = now + timedelta(seconds=wait) if wait else None
    _save(state)
    audit.record(
        AuditEvent.TWO_FACTOR_FAILED, reason=rejection.reason, failures=state.failures, **context
    )
    if wait:
        rejection.message = f"{rejection.message} {throttled_message(wait)}"
        rejection.retry_after = wait
        audit.record(
            AuditEvent.TWO_FACTOR_THROTTLED, wait_seconds=wait, failures=state.failures, **context
        )
    return rejection


def succeed(state: CodeState, step: int | None) -> None:
    """An accepted answer: remember its step (no replay) and end the failure streak."""
    if step is not None:
        state.last_step = step
    state.failures = 0
    state.retry_at = None
    _save(state)


def forgive(state: CodeState) -> None:
    """Reset 2FA: no failure streak and no wait (the last step stays: no replay)."""
    state.failures = 0
    state.retry_at = None
    _save(state)


@functools.cache
def _update_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(c)} = %s" for c in ("last_step", "failures", "retry_at"))
    table, key = quote(CodeState._meta.db_table), quote(CodeState._meta.pk.column)
    return f"UPDATE {table} SET {columns} WHERE {key} = %s RETURNING {key}"  # noqa: S608 - names


def _save(state: CodeState) -> None:
    """Write the code state's three columns (one statement built once per process: the
    ORM's save() compiled it on every code step; with the check's other writes in
    prepared.together())."""
    retry_at = prepared.database().ops.adapt_datetimefield_value(state.retry_at)
    prepared.write(_update_sql(), [state.last_step, state.failures, retry_at, state.person_id])
