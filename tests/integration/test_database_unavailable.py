"""A database that is lost mid-request gives a calm 503, and the next request works."""

import json
from importlib import import_module

import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.db.utils import InterfaceError, OperationalError
from django.test import Client

from adminpanel.login import services as login

PASSWORD = "correct-horse-battery-staple"
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore  # the engine in use


def logged_in_client(make_account) -> Client:
    make_account("alice", password=PASSWORD)
    client = Client(raise_request_exception=False)  # see the response a browser would get
    response = client.post("/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    return client


def lose_the_database(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def test_a_database_lost_in_a_view_gives_a_503_page(db, monkeypatch):
    monkeypatch.setattr(login, "check_password_step", lose_the_database)
    client = Client(raise_request_exception=False)
    response = client.post("/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    assert "Try again in a moment." in body
    assert "Traceback" not in body


def test_a_database_lost_while_loading_the_session_gives_a_503_page(db, make_account, monkeypatch):
    client = logged_in_client(make_account)
    monkeypatch.setattr(SessionStore, "load", lose_the_database)
    response = client.get("/")
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()
    assert "Content-Security-Policy" in response.headers


def test_an_interface_error_is_a_lost_database_too(db, make_account, monkeypatch):
    client = logged_in_client(make_account)

    def closed(*args, **kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(SessionStore, "load", closed)
    assert client.get("/").status_code == 503


def test_api_paths_get_a_json_503(db, make_account, monkeypatch):
    client = logged_in_client(make_account)
    monkeypatch.setattr(SessionStore, "load", lose_the_database)
    response = client.get("/api/v1/me")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["error"] == "database_unavailable"
    assert body["message"]


def test_other_errors_stay_500(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not the database")

    monkeypatch.setattr(login, "check_password_step", broken)
    client = Client(raise_request_exception=False)
    response = client.post("/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 500


@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_request_gives_503_and_the_next_request_works(make_account):
    if connection.vendor != "postgresql":
        pytest.skip("drops a real PostgreSQL backend")
    client = logged_in_client(make_account)
    real_home = client.get("/")
    assert real_home.status_code == 200

    queries = []

    def drop_before_the_second_query(execute, sql, params, many, context):
        queries.append(sql)
        if len(queries) == 2:
            # Mid-request, the server ends this very backend, as a failover or a restart would.
            with context["connection"].connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(drop_before_the_second_query):
        response = client.get("/")
    assert len(queries) == 2  # the session was read, then the connection was gone
    assert response.status_code == 503
    # What the WSGI server does at the end of every request (Django's test client does not):
    # the broken connection fails its health check and is closed.
    close_old_connections()
    assert client.get("/").status_code == 200
