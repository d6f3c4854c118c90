"""Django's `flush`, which on PostgreSQL gives way to the mail servers instead of deadlocking
with them.

Its TRUNCATE of every table takes the tables' locks one at a time, waiting for each: a mail
server's read of a view over two tables (Postfix's and Dovecot's lookups, the mail host's
periodic work) that held one and waited for another it had taken deadlocked with it, and
Postfix then answered "Temporary lookup failure" for a minute (its retry_interval). Here every
table is locked first, all at once or none (NOWAIT, tried again while one is in use), so the
flush never holds a table while it waits; the TRUNCATE then runs under those locks. The tests
flush the database after each test that the mail servers read (pytest-django's
transactional_db), so this is what they run.
"""

import time

import psycopg
from django.core.management.commands import flush
from django.db import OperationalError, connections, transaction

LOCK_RETRY_SECONDS = 0.01
LOCK_GIVE_UP_SECONDS = 60


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        # Asked interactively, the question must not hold the mail servers up: Django's own.
        if connection.vendor != "postgresql" or options["interactive"]:
            return super().handle(**options)
        with transaction.atomic(using=connection.alias):
            lock_every_table(connection)
            return super().handle(**options)


def lock_every_table(connection) -> None:
    """Every table of the panel locked in this transaction, taken all at once."""
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    if not tables:
        return
    names = ", ".join(connection.ops.quote_name(table) for table in sorted(tables))
    statement = f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT"
    give_up = time.monotonic() + LOCK_GIVE_UP_SECONDS
    while True:
        try:
            # A savepoint: when one table is in use, the ones already locked are let go.
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(statement)
            return
        except OperationalError as error:
            if not isinstance(error.__cause__, psycopg.errors.LockNotAvailable):
                raise
            if time.monotonic() > give_up:
                raise
            time.sleep(LOCK_RETRY_SECONDS)
