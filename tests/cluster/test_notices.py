"""SPEC §12: with two instances running, each running its sender, every notice is mailed once.

The instances mail a real SMTP server (aiosmtpd) started by the test; the outbox lives in
their shared PostgreSQL database.
"""

import secrets
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from testbed.cluster import Browser, Fleet, start_instances
from tests.cluster.instances import new_database
from tests.smtp import SmtpServer

PASSWORD = "cluster-password-horse-9"
ACCOUNTS = 20

MAKE_AND_RESET = """
from django.db import transaction
from adminpanel.accounts.models import Account
from adminpanel.twofactor import services

names = {names!r}
accounts = [
    Account.objects.create_user(name, {password!r}, email=name + "@example.com") for name in names
]
with transaction.atomic():  # every notice becomes due at the same instant
    for account in accounts:
        services.reset(account, actor_name="operator (command line)")
print("ok")
"""


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def mail_db(database_url) -> Iterator[str]:
    """A database of its own, so that only these instances' outbox is in it."""
    with new_database(database_url, "adminpanel_notices") as database:
        yield database


@pytest.fixture(scope="module")
def fleet(mail_db, smtp_server) -> Iterator[Fleet]:
    env = {"ADMINPANEL_SMTP_URL": smtp_server.url, "ADMINPANEL_MAIL_FROM": "panel@example.com"}
    with start_instances(2, mail_db, workers=1, env=env) as started:
        yield started


def senders(fleet: Fleet) -> list[int]:
    """The sender processes: children of each instance running `send_notices`."""
    found = []
    for instance in fleet.instances:
        master = instance.process.pid  # serve exec()s into the server; the sender is its child
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        for pid in children:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"send_notices" in command:
                found.append(instance.port)
    return found


def wait_until_outbox_is_empty(database_url: str) -> None:
    deadline = time.monotonic() + 60
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            pending = "SELECT count(*) FROM notices_notice WHERE status = 'pending'"
            if conn.execute(pending).fetchone()[0] == 0:
                return
            time.sleep(0.2)
    raise TimeoutError("notices still pending after 60 s")


def test_each_instance_runs_a_sender(fleet):
    assert sorted(senders(fleet)) == sorted(i.port for i in fleet.instances)


def test_with_two_instances_each_notice_is_mailed_once(fleet, mail_db, smtp_server):
    run = secrets.token_hex(3)
    names = [f"n{i}-{run}" for i in range(ACCOUNTS)]
    fleet.django(MAKE_AND_RESET.format(names=names, password=PASSWORD))
    smtp_server.wait_for(ACCOUNTS)
    wait_until_outbox_is_empty(mail_db)  # every notice sent: none can be taken again
    received = Counter(rcpt for m in smtp_server.received() for rcpt in m.rcpt_tos)
    assert {name: received[f"{name}@example.com"] for name in names} == dict.fromkeys(names, 1)
    with psycopg.connect(mail_db, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT status, attempts, count(*) FROM notices_notice GROUP BY status, attempts"
        ).fetchall()
        sent_events = conn.execute(
            "SELECT count(*) FROM audit_event WHERE event = 'notice_sent'"
        ).fetchone()[0]
    assert rows == [("sent", 1, ACCOUNTS)]
    assert sent_events == ACCOUNTS


def test_a_sign_in_seen_on_one_instance_is_known_on_the_other(fleet, mail_db, smtp_server):
    name = f"walker-{secrets.token_hex(3)}"
    fleet.django(
        "from adminpanel.accounts.models import Account\n"
        f"Account.objects.create_user({name!r}, {PASSWORD!r}, email='{name}@example.com')\n"
    )
    a, b = fleet.urls
    for url in (a, b, a):
        r = Browser(url).password_step(name, PASSWORD)
        assert r.status_code == 302 and r.headers["Location"] == "/"
    wait_until_outbox_is_empty(mail_db)
    [mail] = smtp_server.to(f"{name}@example.com")
    assert mail.subject == "[Admin Panel] New sign-in from 127.0.0.1"
