"""A kept PostgreSQL connection is checked before each request's first query without a round
trip (adminpanel/postgresql/base.py): a healthy one is kept, one the server ended is replaced
before the request uses it, so no request fails on it."""

import os
import resource
import select
import time

import psycopg
import pytest
from django.db import connection

from adminpanel import prepared
from adminpanel.mailserver.config import Database

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connections"),
]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def a_new_request() -> None:
    """What Django does when a request starts (request_started: close_old_connections)."""
    connection.close_if_unusable_or_obsolete()


def test_a_healthy_idle_connection_is_kept_and_checking_it_sends_nothing(tmp_path):
    pid = backend_pid()
    pgconn = connection.connection.pgconn
    with open(tmp_path / "trace", "w") as trace:
        pgconn.trace(trace.fileno())  # libpq writes every message it sends or receives here
        try:
            assert connection.is_usable()
        finally:
            pgconn.untrace()
    assert (tmp_path / "trace").read_text() == ""  # no `SELECT 1`, no answer waited for
    a_new_request()
    assert backend_pid() == pid


def end_the_session_on_the_server(pid: int) -> None:
    with psycopg.connect(Database.of(connection.settings_dict).dovecot_connect()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server says why and closes the socket: wait until that has arrived.
    socket = connection.connection.pgconn.socket
    deadline = time.monotonic() + 10
    while not select.select([socket], [], [], 0.1)[0]:
        assert time.monotonic() < deadline, "the ended session's socket never became readable"


def test_a_connection_the_server_ended_is_replaced_before_the_first_query():
    pid = backend_pid()
    end_the_session_on_the_server(pid)
    assert not connection.is_usable()
    a_new_request()
    assert backend_pid() != pid  # a new connection, and the query on it worked


def test_the_replacement_of_an_ended_connection_makes_its_session_function_again():
    """prepared.in_turn's function lives in the session: the health check runs before it is
    looked up, so the first statements on a replaced connection make it anew."""

    def in_turn() -> tuple | None:  # the request's first statements, outside a transaction
        return prepared.in_turn(
            ("SELECT 1 AS locked", "SELECT pg_backend_pid()"),
            [],
            param_types=(),
            row_types=("integer",),
        )

    (pid,) = in_turn()
    end_the_session_on_the_server(pid)
    a_new_request()
    (new_pid,) = in_turn()  # not "function does not exist"
    assert new_pid != pid


def test_a_connection_inside_a_transaction_is_not_reused_as_healthy():
    backend_pid()
    connection.connection.execute("BEGIN")  # left open by a request that failed oddly
    try:
        assert not connection.is_usable()
    finally:
        connection.connection.execute("ROLLBACK")
    assert connection.is_usable()


def test_a_connection_on_a_descriptor_beyond_select_s_limit_is_checked():
    """A worker that holds many slow clients opens its database connection on a high
    descriptor, where select() raises."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip("this machine allows fewer than 2048 open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        connection.close()
        pid = backend_pid()  # a new connection, on a descriptor above 1024
        assert connection.connection.pgconn.socket > 1024
        assert connection.is_usable()
        a_new_request()
        assert backend_pid() == pid
    finally:
        for descriptor in held:
            os.close(descriptor)
        connection.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
