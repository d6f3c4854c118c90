"""adminpanel.prepared.first_row: the statements every sign-in makes run on a cursor the
PostgreSQL connection keeps, and behave as through Django's cursor: they see the writes waiting
in together(), fail with Django's errors, follow a new connection, and are seen by whatever
watches the statements (the tests' CaptureQueriesContext, DEBUG)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from adminpanel import audit, prepared
from adminpanel.accounts.models import Account
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.twofactor.models import CodeState
from tests.locking import LOCK, read_after_a_held_lock

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRESQL = connection.vendor == "postgresql"
on_postgresql = pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's kept cursor")


def backend_pid() -> int:
    return prepared.first_row("SELECT pg_backend_pid()", [])[0]


def test_a_statement_gives_its_first_row_or_none():
    Account.objects.create_user("alice")
    table = connection.ops.quote_name(Account._meta.db_table)
    query = f"SELECT username FROM {table} WHERE username = %s"  # noqa: S608
    assert prepared.first_row(query, ["alice"]) == ("alice",)
    assert prepared.first_row(query, ["bob"]) is None


@on_postgresql
def test_the_connection_keeps_one_cursor_and_a_new_connection_gets_its_own():
    pid = backend_pid()
    kept = connection.kept_cursor()
    assert backend_pid() == pid
    assert connection.kept_cursor() is kept
    connection.close()
    assert backend_pid() != pid  # the next statement opened a new connection
    assert connection.kept_cursor() is not kept
    assert kept.connection.closed  # the old one went with its connection


def test_a_read_inside_together_sees_the_writes_before_it():
    alice = Account.objects.create_user("alice")
    query = "SELECT count(*) FROM audit_event WHERE actor_name = %s"
    with transaction.atomic(), prepared.together():
        audit.record(AuditEvent.WEB_LOGOUT, actor=alice)
        assert prepared.first_row(query, ["alice"]) == (1,)


def test_a_failing_statement_raises_djangos_error_and_its_transaction_is_undone():
    alice = Account.objects.create_user("alice")
    # django.db's error (psycopg's is no subclass of it): what the rest of the code catches.
    with pytest.raises(DatabaseError), transaction.atomic():
        audit.record(AuditEvent.WEB_LOGOUT, actor=alice)
        prepared.first_row("SELECT * FROM no_such_table", [])
    assert prepared.first_row("SELECT count(*) FROM audit_event", []) == (0,)


def test_its_statements_are_seen_by_what_watches_the_statements():
    with CaptureQueriesContext(connection) as queries:
        prepared.first_row("SELECT 1", [])
        prepared.first_row("SELECT 2", [])
    assert [q["sql"] for q in queries.captured_queries] == ["SELECT 1", "SELECT 2"]


@on_postgresql
def test_a_read_after_a_lock_sees_what_the_locks_holder_committed():
    """Why the second factor locks and then reads in two statements (twofactor.state): the
    read, on a snapshot taken after the lock was granted, sees what the holder wrote under it.
    (A read inside the locking statement would not: PostgreSQL re-reads only the locked row.)"""
    person_id = Account.objects.create_user("alice").person_id

    def lock_then_read():
        prepared.first_row(LOCK, [person_id])
        return prepared.first_row(LAST_STEP, [person_id])

    row, took = read_after_a_held_lock(
        person_id,
        lambda: CodeState.objects.create(person_id=person_id, last_step=42),
        lock_then_read,
    )
    assert took >= 0.25  # it did wait for the lock
    assert row == (42,)


LAST_STEP = "SELECT last_step FROM twofactor_codestate WHERE person_id = %s"
