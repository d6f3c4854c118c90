"""The auth policy server (mailserver.policy) under a flood: a fixed pool of threads, each with
one database connection kept between requests, idle clients closed, and still an answer for
Dovecot once the flood has had its turn (issue 21)."""

import http.client
import json
import os
import socket
import sqlite3
import threading
from pathlib import Path

import pytest
from django.db import connection

from adminpanel.mailserver.config import Database
from adminpanel.mailserver.policy import Limits, PolicyServer
from tests.mailserver.mail import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 4
FLOOD = 300


@pytest.fixture
def database(tmp_path) -> Database:
    """The test database; on SQLite a copy of it, so that only this test's server opens it
    (the session's mail servers, in this process too, open and close the original)."""
    database = Database.of(connection.settings_dict)
    if database.vendor != "sqlite":
        return database
    copy = tmp_path / "copy.sqlite3"
    with sqlite3.connect(database.name) as original, sqlite3.connect(copy) as target:
        original.backup(target)
    return Database("sqlite", str(copy))


@pytest.fixture
def server(database):
    server = PolicyServer(Limits(database), workers=WORKERS, idle_timeout=1).start()
    yield server
    server.stop()


def ask(server, login: str = "anna@example.com", command: str = "allow") -> dict:
    """One request as Dovecot makes it; the server's JSON answer."""
    host, port = server.server_address[:2]
    client = http.client.HTTPConnection(host, port, timeout=60)
    try:
        body = json.dumps({"login": login, "remote": "192.0.2.1", "protocol": "imap"})
        client.request("POST", f"/?command={command}", body, {"Content-Type": "application/json"})
        return json.loads(client.getresponse().read())
    finally:
        client.close()


def ask_as_dovecot_retries(server) -> dict:
    """ask(), again while the server closes the connection at once (all its workers busy)."""
    answer: list[dict] = []

    def answered() -> bool:
        try:
            answer.append(ask(server))
        except (OSError, http.client.HTTPException):
            return False
        return True

    assert wait_until(answered), "never answered"
    return answer[0]


def database_now(database: Database):
    if database.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def open_database_connections(database: Database, since) -> int:
    """PostgreSQL's backends started since then whose last word was the policy's COMMIT, or the
    open files of the SQLite copy."""
    if database.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_start > %s AND query = 'COMMIT' AND pid <> pg_backend_pid()",
                [since],
            )
            return cursor.fetchone()[0]
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == database.name)


def test_a_flood_of_connections_makes_no_threads_and_dovecot_is_answered_after_it(server):
    threads = threading.active_count()
    host, port = server.server_address[:2]
    flood = []
    try:
        for _ in range(FLOOD):
            try:
                flood.append(socket.create_connection((host, port), timeout=5))
            except OSError:
                break  # the listen backlog is full: the kernel refuses, nothing of ours grows
        assert ask_as_dovecot_retries(server) == {"status": 0, "msg": ""}
        assert threading.active_count() <= threads
    finally:
        for sock in flood:
            sock.close()
    assert len(flood) >= 2 * WORKERS  # it was a flood


def test_a_client_that_says_nothing_is_closed(server):
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as idle:
        assert idle.recv(100) == b""  # closed by the server, not by our timeout


def test_requests_reuse_a_database_connection_per_thread(server, database):
    since = database_now(database)
    before = open_database_connections(database, since)
    for _ in range(3 * WORKERS):
        assert ask(server)["status"] == 0
    kept = open_database_connections(database, since) - before
    assert 1 <= kept <= WORKERS
    server.stop()
    assert wait_until(lambda: open_database_connections(database, since) == before)


def test_the_limit_still_counts_through_the_pool(server):
    limits = server.limits
    for _ in range(limits.failures):
        ask(server, "bob@example.com", "report")  # a report without "success" is a failure
    assert ask(server, "bob@example.com")["status"] == -1
    assert ask(server, "carol@example.com")["status"] == 0
