"""The mail host's periodic work gives way to the panel's schema changes on PostgreSQL: a read
of the purge, of the sessions to end or of the DKIM keys that waits for a table a migration
holds fails within HOUSEKEEPING_LOCK_TIMEOUT_MS (it runs again at its next turn) instead of
holding up the migration, or deadlocking with one that takes its tables one at a time."""

import argparse
import threading

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction

from adminpanel.mailserver import dkim, purge, sessions
from adminpanel.mailserver.commands import mailserver_end_sessions
from adminpanel.mailserver.config import Database

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's locks"),
]


def end_sessions(database, directory):
    sessions.end_requested(database, ["doveadm"], "mail-a")


def purge_maildirs(database, directory):
    purge.purge_due(database, directory)


def write_dkim_tables(database, directory):
    reader = purge.connect_for_housekeeping(database)
    dkim.sync(reader, directory, settings.DKIM_ENCRYPTION_KEYS, directory / "opendkim.pid")


@pytest.mark.parametrize(
    ("work", "table"),
    [
        (end_sessions, "mailserver_end_sessions_request"),
        (end_sessions, "mailserver_host_sessions_ended"),
        (purge_maildirs, "mail_mailbox"),
        (purge_maildirs, "mailserver_purged"),
        (write_dkim_tables, "mail_dkimkey"),
        (write_dkim_tables, "mail_domain"),
    ],
)
def test_a_periodic_read_gives_way_to_a_schema_change_holding_its_table(work, table, tmp_path):
    database = Database.of(connection.settings_dict)
    failed: list[Exception] = []

    def run() -> None:
        try:
            work(database, tmp_path)
        except psycopg.Error as error:
            failed.append(error)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # as ALTER TABLE does
        reader = threading.Thread(target=run)
        reader.start()
        reader.join(timeout=30)
        waited_for_the_change = reader.is_alive()
    reader.join()

    assert not waited_for_the_change
    assert [type(error) for error in failed] == [psycopg.errors.LockNotAvailable]


def test_a_run_that_gave_way_says_so_in_one_line_and_fails(capsys):
    database = Database.of(connection.settings_dict)
    with psycopg.connect(database.dovecot_connect()) as change:
        change.execute("LOCK TABLE mailserver_end_sessions_request IN ACCESS EXCLUSIVE MODE")
        status = mailserver_end_sessions(
            argparse.Namespace(every=0, dovecot_config=None, host_name="mail-a")
        )

    said = capsys.readouterr().err.strip()
    assert status == 1
    assert "lock timeout" in said and "Traceback" not in said and "\n" not in said
