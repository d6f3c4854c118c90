"""The lookup server Postfix asks on SQLite (Postfix's socketmap protocol), spoken to directly:
exact answers from the views, and garbage that changes nothing and stops nothing.

The tests only read: one seeded database and one server serve the whole module."""

import argparse
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection

from adminpanel.accounts.models import Account
from adminpanel.mail import services
from adminpanel.mailserver.commands import mailserver_lookup
from adminpanel.mailserver.lookup import LookupServer, netstring
from tests.mailserver.mail import wait_until

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the lookup server is for SQLite"),
    # The module's rows are seeded and flushed by its fixture; the mark tells pytest-django the
    # module uses the test database (run alone, nothing else would have it created).
    pytest.mark.django_db,
]


def _seed() -> None:
    admin = Account.objects.create_user("admin", "Admin-Quartz-Lantern-4817", is_owner=True)
    services.create_domain(admin, name="example.com", catch_all="info@example.com")
    for local in ["Info", "off", "team+old"]:
        services.create_mailbox(
            admin, address=f"{local}@example.com", password="Mailbox-Cobalt-27x"
        )
    services.update_mailbox(admin, services.Mailbox.objects.get(local_part="off"), active=False)
    services.create_alias(admin, address="team@example.com", destinations=["info@example.com"])


def _in_a_thread(work) -> None:
    """Run Django work in a thread of its own (and close its connection): once the e2e tests
    have started the session's Playwright, its asyncio loop counts as running on the main
    thread, where Django refuses the ORM outside a test's own database fixtures."""

    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _in_a_thread(_seed)
    lookup = LookupServer(connection.settings_dict["NAME"]).start()
    with django_db_blocker.unblock():
        found = []
        _in_a_thread(lambda: found.append(services.Mailbox.objects.get(local_part="Info").maildir))
    lookup.info_maildir = found[0]  # the maildir the panel chose for info@example.com
    yield lookup
    lookup.stop()
    with django_db_blocker.unblock():  # empty again, as after a transactional test
        _in_a_thread(lambda: call_command("flush", interactive=False, verbosity=0))


def ask(server: LookupServer, *requests: bytes) -> bytes:
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(b"".join(requests))
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def one(server: LookupServer, request: str) -> str:
    return ask(server, netstring(request)).decode()


@pytest.mark.parametrize(
    "request_, answer",
    [
        ("domains example.com", "OK example.com"),
        ("domains EXAMPLE.COM", "OK example.com"),
        ("domains %", "NOTFOUND "),
        ("mailboxes info@example.com", "OK {info_maildir}"),
        ("mailboxes i_fo@example.com", "NOTFOUND "),
        ("mailboxes off@example.com", "NOTFOUND "),
        ("inactive off@example.com", "OK REJECT This mailbox is disabled."),
        ("quota info@example.com", "OK adminpanel_quota"),
        ("quota team@example.com", "NOTFOUND "),
        ("aliases team@example.com", "OK info@example.com"),
        ("aliases stray@example.com", "OK info@example.com"),  # the catch-all
        ("aliases info@example.com", "NOTFOUND "),  # a mailbox is never caught
        ("aliases x' OR '1'='1@example.com", "NOTFOUND "),
        ("aliases team@example.com\x00", "NOTFOUND "),
        ("passwords info@example.com", "PERM unknown table 'passwords'"),
        # recipient_delimiter = +: what Postfix does for its own tables
        ("mailboxes info+news@example.com", "OK {info_maildir}"),
        ("mailbox-self info+news@example.com", "OK info+news@example.com"),
        ("aliases team+news@example.com", "OK info+news@example.com"),
        ("aliases stray+news@example.com", "OK info+news@example.com"),  # the catch-all
        ("aliases info+news@example.com", "NOTFOUND "),
        ("inactive off+news@example.com", "OK REJECT This mailbox is disabled."),
        ("quota info+news@example.com", "OK adminpanel_quota"),
        ("mailboxes info+@example.com", "OK {info_maildir}"),
        ("mailbox-self info+@example.com", "OK info+@example.com"),
        ("mailboxes +info@example.com", "NOTFOUND "),  # nothing before the "+": no tag
        ("mailboxes info+a+b@example.com", "OK {info_maildir}"),  # split at the first
        ("aliases team+old@example.com", "NOTFOUND "),  # a mailbox of that name comes first
        ("mailbox-self team+old@example.com", "OK team+old@example.com"),
    ],
)
def test_each_lookup_answers_exactly_from_the_views(server, request_, answer):
    answer = answer.replace("{info_maildir}", server.info_maildir)
    assert one(server, request_) == netstring(answer).decode()


@pytest.mark.parametrize(
    "garbage",
    [b"", b"5:abc", b"x:abc,", b"99999999:", b"3:abc;", b"\xff\xfe", b"100001:" + b"a" * 10],
)
def test_garbage_ends_that_connection_and_the_server_keeps_answering(server, garbage):
    ask(server, garbage)
    assert one(server, "domains example.com") == netstring("OK example.com").decode()


def test_several_lookups_on_one_connection_are_answered_in_order(server):
    answer = ask(server, netstring("domains example.com"), netstring("domains other.org"))
    assert answer == netstring("OK example.com") + netstring("NOTFOUND ")


@pytest.fixture
def small_server(server):
    """A server on the same database with 4 connection slots and a 1 s idle timeout."""
    lookup = LookupServer(connection.settings_dict["NAME"], max_connections=4, idle_timeout=1)
    yield lookup.start()
    lookup.stop()


def connect(server: LookupServer) -> socket.socket:
    host, port = server.server_address[:2]
    return socket.create_connection((host, port), timeout=10)


def test_a_connection_that_says_nothing_is_closed_after_the_idle_timeout(small_server):
    with connect(small_server) as idle:
        started = time.monotonic()
        assert idle.recv(10) == b""  # closed by the server
        assert 0.5 < time.monotonic() - started < 8


@pytest.fixture
def capped_server(server):
    """4 connection slots, and an idle timeout no busy machine reaches during the test: the
    held connections must stay open for their slots, not end idle after 1 s (they did once,
    under a load of 6, and the test failed on a connection the server had already ended)."""
    lookup = LookupServer(connection.settings_dict["NAME"], max_connections=4, idle_timeout=60)
    yield lookup.start()
    lookup.stop()


def test_connections_beyond_the_cap_are_closed_at_once_and_the_others_keep_answering(
    capped_server,
):
    held = [connect(capped_server) for _ in range(4)]
    try:
        with connect(capped_server) as extra:
            assert extra.recv(10) == b""  # no thread for it
        held[0].sendall(netstring("domains example.com"))
        assert held[0].recv(100) == netstring("OK example.com")
    finally:
        for conn in held:
            conn.close()
    # The slots come back when the connections' threads see them end: until then a new
    # connection is still closed at once (the ask fails), which is no answer yet.
    assert wait_until(lambda: answers_a_lookup(capped_server))


def answers_a_lookup(server: LookupServer) -> bool:
    try:
        return one(server, "domains example.com").startswith("14:OK")
    except OSError:  # closed by the server before the ask was written: no slot free yet
        return False


@pytest.mark.parametrize("listen", ["0.0.0.0:7520", "203.0.113.5:7520", "[::]:7520"])
def test_the_command_listens_on_loopback_unless_told_otherwise(listen, capsys):
    args = argparse.Namespace(listen=listen, allow_remote=False)
    assert mailserver_lookup(args) == 2
    assert "is not a loopback address" in capsys.readouterr().err


@pytest.mark.parametrize("listen", ["127.0.0.1:x", "127.0.0.1:70000", "127.0.0.1"])
def test_a_listen_address_that_is_not_host_port_gets_one_line(listen, capsys):
    args = argparse.Namespace(listen=listen, allow_remote=False)
    assert mailserver_lookup(args) == 2
    assert "--listen is HOST:PORT" in capsys.readouterr().err
