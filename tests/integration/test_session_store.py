"""adminpanel.sessions: Django's database sessions, with fewer writes per login."""

import re
from datetime import timedelta

import pyotp
import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from adminpanel import clock, prepared
from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from adminpanel.sessions import SessionStore
from adminpanel.twofactor import services as twofactor

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


def session_statements(queries) -> list[str]:
    """The kind of each statement on the session table; the writes sent together
    (adminpanel.prepared.together: `WITH w0 AS (UPDATE …), w1 AS (INSERT …) SELECT …`) each."""
    statements = []
    for query in queries:
        sql = query["sql"]
        parts = (
            re.split(r"(?:WITH |, )w\d+ AS \(", sql)[1:]
            if sql.startswith("WITH w0 AS (")
            else [sql]
        )
        statements += [
            p.split(" ", 1)[0] for p in parts if '"django_session"' in p.split(" WHERE")[0]
        ]
    return statements


def pending_2fa_login() -> tuple[Client, str, str]:
    """A visitor past the password step of a 2FA account: (client, session id, next code)."""
    account = Account.objects.create_user("alice", PASSWORD)
    now = clock.now()
    setup = twofactor.start_setup(account, now=now)
    key = twofactor.setup_key(setup)
    twofactor.confirm_setup(account, setup.pk, pyotp.TOTP(key).at(now), now=now)
    client = Client(raise_request_exception=False)
    assert client.post("/login", {"username": "alice", "password": PASSWORD}).url == "/login"
    next_code = pyotp.TOTP(key).at(now + timedelta(seconds=30))
    return client, client.cookies["adminpanel_session"].value, next_code


def saved_then_cycled() -> tuple[SessionStore, str]:
    """A saved session whose key was just cycled, not saved since: (it, its old key)."""
    store = SessionStore()
    store["step"] = "password done"
    store.save()
    old = store.session_key
    store.cycle_key()
    return store, old


def test_cycling_the_key_keeps_the_data_and_moves_the_row_to_the_new_key_in_one_statement():
    store, old = saved_then_cycled()
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert session_statements(queries.captured_queries) == ["UPDATE"]
    assert store.session_key != old
    assert not Session.objects.filter(session_key=old).exists()  # a planted id is dead
    assert Session.objects.count() == 1
    assert SessionStore(store.session_key)["step"] == "password done"


def test_a_cycled_session_flushed_before_it_is_saved_leaves_no_row():
    store, _ = saved_then_cycled()
    store.flush()  # a logout: SessionMiddleware then saves nothing, the session being empty
    assert not Session.objects.exists()


def test_a_cycled_session_whose_row_ended_meanwhile_is_written_anew():
    store, old = saved_then_cycled()
    SessionStore(old).delete()  # e.g. "Sign out all other sessions" in another tab
    store.save()
    assert SessionStore(store.session_key)["step"] == "password done"
    store.cycle_key()
    store.save()  # the inserted row is the one the next cycle moves
    assert Session.objects.count() == 1


def test_a_cycled_session_saved_with_other_writes_whose_row_ended_meanwhile_is_written_anew():
    store, old = saved_then_cycled()
    SessionStore(old).delete()
    with transaction.atomic(), prepared.together():
        store.save()  # on PostgreSQL sent at the block's end, and found with nothing to move
    assert SessionStore(store.session_key)["step"] == "password done"
    assert Session.objects.count() == 1


def test_a_new_key_is_written_once_when_the_session_is_saved():
    store = SessionStore()
    store["a"] = 1
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert session_statements(queries.captured_queries) == ["INSERT"]


def test_a_session_saved_again_unchanged_is_not_written_again():
    store = SessionStore()
    store["a"] = 1
    store.save()
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert session_statements(queries.captured_queries) == []
    store["a"] = 2
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert session_statements(queries.captured_queries) == ["UPDATE"]
    assert SessionStore(store.session_key)["a"] == 2


def test_a_taken_key_draws_another(monkeypatch):
    taken = SessionStore()
    taken["owner"] = "someone else"
    taken.save()
    drawn = iter([taken.session_key, "a" * 32])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(drawn))
    store = SessionStore()
    store["owner"] = "me"
    store.save()
    assert store.session_key == "a" * 32
    assert SessionStore(taken.session_key)["owner"] == "someone else"


def test_deleting_a_session_is_one_statement():
    store = SessionStore()
    store["a"] = 1
    store.save()
    with CaptureQueriesContext(connection) as queries:
        store.delete()
    assert session_statements(queries.captured_queries) == ["DELETE"]
    assert not Session.objects.filter(session_key=store.session_key).exists()


def test_the_data_is_signed_not_compressed_and_rows_written_compressed_still_load():
    from_before = SessionStore()
    signed_compressed = DatabaseSessionStore.encode(from_before, {"step": "x" * 200})
    assert signed_compressed.startswith(".")  # Django's mark of a compressed payload
    Session.objects.create(
        session_key="k" * 32,
        session_data=signed_compressed,
        expire_date=timezone.now() + timedelta(hours=1),
    )
    assert SessionStore("k" * 32)["step"] == "x" * 200
    store = SessionStore()
    store["step"] = "x" * 200
    store.save()
    written = Session.objects.get(session_key=store.session_key).session_data
    assert not written.startswith(".")
    assert SessionStore(store.session_key)["step"] == "x" * 200
    tampered = written[:-1] + ("A" if written[-1] != "A" else "B")
    Session.objects.filter(session_key=store.session_key).update(session_data=tampered)
    assert SessionStore(store.session_key).get("step") is None  # a bad signature: no data


def test_new_keys_are_long_random_and_in_djangos_alphabet():
    keys = {SessionStore()._get_new_session_key() for _ in range(1000)}
    assert len(keys) == 1000
    assert all(len(k) == 32 and set(k) <= set(VALID_KEY_CHARS) for k in keys)


def test_the_code_step_of_a_login_writes_the_session_once():
    client, pending, code = pending_2fa_login()
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/login/verify", {"challenge": code})
    assert response.status_code == 302 and response.url == "/"
    # Read once, then moved to a new id with the logged-in data: nothing else.
    assert session_statements(queries.captured_queries) == ["SELECT", "UPDATE"]
    assert client.cookies["adminpanel_session"].value != pending
    assert not Session.objects.filter(session_key=pending).exists()
    assert client.get("/").status_code == 200


def as_run(sql: str) -> list[str]:
    """A statement as PostgreSQL ran it: the call of a session's function (prepared.in_turn)
    stands for the statements of its body, in their order."""
    if not sql.startswith("SELECT * FROM pg_temp."):
        return [sql]
    name = sql.removeprefix("SELECT * FROM pg_temp.").split("(", 1)[0]
    (body,) = prepared.first_row(
        "SELECT prosrc FROM pg_proc WHERE proname = %s AND pronamespace = pg_my_temp_schema()",
        [name],
    )
    return [part.strip() for part in body.split(";") if part.strip() != "END"]


def test_the_code_step_reads_its_account_with_the_lock_and_writes_in_one_statement():
    client, _, code = pending_2fa_login()
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/login/verify", {"challenge": code}).status_code == 302
    captured = [q["sql"] for q in queries.captured_queries]
    # On a connection's first code step, the session's function that locks and then reads.
    made = [sql for sql in captured if sql.startswith("CREATE")]
    assert all(sql.startswith("CREATE OR REPLACE FUNCTION pg_temp.") for sql in made)
    captured = [sql for sql in captured if sql not in made]
    sent = [sql.split(" ", 1)[0] for sql in captured]
    writes = [kind for kind in sent if kind not in ("SELECT", "SAVEPOINT", "RELEASE")]
    if connection.vendor == "postgresql":
        # The code state, the session's new id, the WebSession and the audit rows.
        assert writes == ["WITH"]
        assert session_statements(queries.captured_queries).count("UPDATE") == 1
    else:
        assert sorted(writes) == ["INSERT", "INSERT", "UPDATE", "UPDATE"]
    # The pending login's account is read with the person's code state, under the lock.
    ran = [part for sql in captured for part in as_run(sql)]
    reads = [sql for sql in ran if '"accounts_account"' in sql]
    assert len(reads) == 1 and '"twofactor_codestate"' in reads[0]
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in ran[ran.index(reads[0]) - 1]


@pytest.mark.django_db(transaction=True)
def test_a_login_is_recorded_whole_or_not_at_all(monkeypatch):
    """The new session row, the old one's removal and the log line commit together."""
    client, pending, code = pending_2fa_login()

    def disk_full(self, data, must_create):
        raise RuntimeError("could not write the session")

    monkeypatch.setattr(SessionStore, "_write", disk_full)
    response = client.post("/login/verify", {"challenge": code})
    assert response.status_code == 500
    assert not Event.objects.filter(event="web_login", actor_name="alice").exists()
    assert Session.objects.filter(session_key=pending).exists()  # still half logged in
    assert not Session.objects.exclude(session_key=pending).exists()
