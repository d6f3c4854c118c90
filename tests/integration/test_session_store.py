"""adminpanel.sessions: Django's database sessions, rotated with one delete and one insert."""

from datetime import timedelta

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from adminpanel import clock
from adminpanel.accounts.models import Account
from adminpanel.sessions import SessionStore
from adminpanel.twofactor import services as twofactor

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


def session_statements(queries) -> list[str]:
    return [
        q["sql"].split(" ", 1)[0]
        for q in queries
        if '"django_session"' in q["sql"].split(" WHERE")[0]
    ]


def test_cycling_the_key_keeps_the_data_and_ends_the_old_key_at_once():
    store = SessionStore()
    store["step"] = "password done"
    store.save()
    old = store.session_key
    store.cycle_key()
    assert not Session.objects.filter(session_key=old).exists()  # a planted id dies now
    store.save()
    assert store.session_key != old
    assert SessionStore(store.session_key)["step"] == "password done"


def test_a_new_key_is_written_once_when_the_session_is_saved():
    store = SessionStore()
    store["a"] = 1
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert session_statements(queries.captured_queries) == ["INSERT"]


def test_deleting_a_session_is_one_statement():
    store = SessionStore()
    store["a"] = 1
    store.save()
    with CaptureQueriesContext(connection) as queries:
        store.delete()
    assert session_statements(queries.captured_queries) == ["DELETE"]
    assert not Session.objects.filter(session_key=store.session_key).exists()


def test_the_code_step_of_a_login_writes_the_session_once():
    account = Account.objects.create_user("alice", PASSWORD)
    now = clock.now()
    setup = twofactor.start_setup(account, now=now)
    key = twofactor.setup_key(setup)
    twofactor.confirm_setup(account, setup.pk, pyotp.TOTP(key).at(now), now=now)
    client = Client()
    assert client.post("/login", {"username": "alice", "password": PASSWORD}).url == "/login"
    pending = client.cookies["adminpanel_session"].value

    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/login/verify", {"challenge": pyotp.TOTP(key).at(now + timedelta(seconds=30))}
        )
    assert response.status_code == 302 and response.url == "/"
    # Read once, old id deleted, new id inserted with the logged-in data: nothing else.
    assert session_statements(queries.captured_queries) == ["SELECT", "DELETE", "INSERT"]
    assert client.cookies["adminpanel_session"].value != pending
    assert not Session.objects.filter(session_key=pending).exists()
    assert client.get("/").status_code == 200
