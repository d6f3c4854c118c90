"""The database's flush (after each test the mail servers read) gives way to a reader instead
of deadlocking with it on PostgreSQL: a transaction that read one table and then reads another
finishes, and the flush after it (ops/management/commands/flush.py)."""

import threading
import time

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, connections

from adminpanel.mail.models import Domain
from adminpanel.mailserver.config import Database

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's locks"),
]


def test_a_reader_of_two_tables_and_the_flush_both_finish():
    Domain.objects.create(name="flushed.example")
    flushed: list[Exception | None] = []

    def flush() -> None:
        try:
            call_command("flush", interactive=False, verbosity=0)
            flushed.append(None)
        except Exception as error:  # noqa: BLE001 - the test reports whatever it was
            flushed.append(error)
        finally:
            connections.close_all()  # this thread's

    with psycopg.connect(Database.of(connection.settings_dict).dovecot_connect()) as reader:
        # Read one table, as a lookup's view does first; the flush starts and must wait for it.
        reader.execute("SELECT count(*) FROM mail_mailbox").fetchall()
        flushing = threading.Thread(target=flush)
        flushing.start()
        time.sleep(0.5)
        # Then another: a flush that held it while waiting for the first deadlocked here.
        assert reader.execute("SELECT count(*) FROM mail_domain").fetchone() == (1,)
    flushing.join(timeout=60)

    assert flushed == [None]
    assert not Domain.objects.exists()
