"""adminpanel.prepared.in_turn: a lock and the read it guards, one after another, each on its
own snapshot; on PostgreSQL in one round trip (a function of the session's), made once per
connection and again after a rollback took it away."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from adminpanel import prepared
from adminpanel.accounts.models import Account
from adminpanel.twofactor.models import CodeState
from tests.locking import LOCK, read_after_a_held_lock

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRESQL = connection.vendor == "postgresql"
on_postgresql = pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's session functions")

LAST_STEP = "SELECT last_step, failures FROM twofactor_codestate WHERE person_id = %s"


def lock_then_read(person_id: int) -> tuple | None:
    return prepared.in_turn(
        (LOCK, LAST_STEP) if POSTGRESQL else (LAST_STEP,),
        [person_id, person_id] if POSTGRESQL else [person_id],
        param_types=("bigint", "bigint") if POSTGRESQL else ("bigint",),
        row_types=tuple(
            CodeState._meta.get_field(name).db_type(connection)
            for name in ("last_step", "failures")
        ),
    )


@pytest.fixture
def person_id() -> int:
    return Account.objects.create_user("alice").person_id


def test_statements_in_turn_give_the_first_row_of_the_last_or_none(person_id):
    with transaction.atomic():
        assert lock_then_read(person_id) is None
    CodeState.objects.create(person_id=person_id, last_step=7, failures=2)
    with transaction.atomic():
        assert lock_then_read(person_id) == (7, 2)


@on_postgresql
def test_on_postgresql_they_are_one_statement_once_the_session_has_its_function(person_id):
    CodeState.objects.create(person_id=person_id, last_step=7)
    with CaptureQueriesContext(connection) as first, transaction.atomic():
        lock_then_read(person_id)
    made = [q["sql"] for q in first.captured_queries if q["sql"].startswith("CREATE")]
    assert len(made) == 1 and made[0].startswith("CREATE OR REPLACE FUNCTION pg_temp.")
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        assert lock_then_read(person_id) == (7, 0)
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 3  # BEGIN (as Django logs it), the call, COMMIT
    assert statements[1].startswith("SELECT * FROM pg_temp.adminpanel_")


@on_postgresql
def test_the_read_after_the_lock_sees_what_the_locks_holder_committed(person_id):
    """The point of two statements: the read's snapshot is taken after the lock was granted."""
    lock_then_read(person_id)  # the session has its function before the race
    row, took = read_after_a_held_lock(
        person_id,
        lambda: CodeState.objects.create(person_id=person_id, last_step=42),
        lambda: lock_then_read(person_id),
    )
    assert took >= 0.25  # it did wait for the lock
    assert row == (42, 0)


@on_postgresql
def test_a_function_a_rollback_took_away_is_made_again(person_id):
    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        lock_then_read(person_id)  # makes the function inside this transaction
        raise Undo
    with transaction.atomic():
        assert lock_then_read(person_id) is None  # not "function does not exist"


@on_postgresql
def test_a_new_connection_makes_its_own(person_id):
    lock_then_read(person_id)
    connection.close()
    with transaction.atomic():
        assert lock_then_read(person_id) is None


@on_postgresql
def test_behind_a_pooler_each_statement_goes_alone(person_id, monkeypatch):
    """`?server_side_binding=false` (README): the session keeps nothing between transactions."""
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", False)
    CodeState.objects.create(person_id=person_id, last_step=7)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        assert lock_then_read(person_id) == (7, 0)
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("pg_temp" in sql for sql in statements)
    assert [sql.split()[-2:] for sql in statements if "FOR UPDATE" in sql] == [["FOR", "UPDATE"]]


def test_only_selects_with_plain_parameters_run_in_turn():
    for statements in (("UPDATE people_person SET kind = %s",), ("SELECT '%%' || %s",)):
        with pytest.raises(ValueError, match="SELECTs"):
            prepared._in_turn_function(statements, ("text",), ("text",))


@on_postgresql
def test_a_session_refused_its_function_sends_the_statements_one_by_one(person_id, monkeypatch):
    """E.g. a database whose TEMP privilege was revoked: the sign-in still works."""

    def refused(statements, param_types, row_types):
        return "adminpanel_refused", "CREATE FUNCTION pg_temp.adminpanel_refused() …", ""

    monkeypatch.setattr(prepared, "_in_turn_function", refused)
    CodeState.objects.create(person_id=person_id, last_step=7)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        assert lock_then_read(person_id) == (7, 0)  # its transaction goes on after the refusal
        assert lock_then_read(person_id) == (7, 0)
    statements = [q["sql"] for q in queries.captured_queries]
    assert len([sql for sql in statements if sql.startswith("CREATE")]) == 1  # asked once
    assert len([sql for sql in statements if sql.endswith("FOR UPDATE")]) == 2
