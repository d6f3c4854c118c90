"""Django's PostgreSQL backend (the ENGINE settings.py gives a PostgreSQL URL), with a kept
cursor and the session's functions for adminpanel.prepared, and one change: the health check
of a kept connection (CONN_HEALTH_CHECKS, before the first query of each request) looks at the
connection instead of sending `SELECT 1` and waiting for the answer.

An idle connection has nothing to read unless the server has sent something unasked: when it
ends a session (a restart, pg_terminate_backend, idle_session_timeout) it sends the reason
and closes the socket. So a connection is usable when psycopg still counts it open and idle
and its socket has nothing to read; anything else (including a rare unasked notice, e.g. a
changed setting after a reload) gets a new connection, as a failed `SELECT 1` did. The round
trip was about a tenth of a millisecond of worker CPU on every request that uses the database
(benchmarks/code.py). A connection whose peer vanished without a word (no FIN) passes both
checks alike until TCP gives up.
"""

import select

from django.db import ProgrammingError, transaction
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return False
        # poll(), not select(): a worker holding thousands of slow clients has descriptors
        # beyond select()'s 1024.
        waiting = select.poll()
        waiting.register(connection.pgconn.socket, select.POLLIN)
        return not waiting.poll(0)

    def _checked(self) -> None:
        """What Django's cursor() checks first: the health check (a connection the server
        ended is replaced here, before it is used), the connection opened, the thread."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        self.validate_thread_sharing()

    _kept = None  # kept_cursor()'s cursor

    def kept_cursor(self):
        """A cursor of the open connection, made once per connection, for statements whose row
        is read at once (adminpanel.prepared.first_row): never for a query read as it goes.
        Checked as cursor() checks (_checked)."""
        self._checked()
        kept = self._kept
        if kept is None or kept.closed or kept.connection is not self.connection:
            with self.wrap_database_errors:
                kept = self._kept = self.create_cursor()
        return kept

    @property
    def keeps_session_state(self) -> bool:
        """Whether the session may hold state between transactions (prepared statements, the
        session's functions): not behind a pooler that hands each transaction to any server
        connection, for which the URL says `?server_side_binding=false` (README)."""
        return bool(self.settings_dict["OPTIONS"].get("server_side_binding"))

    _functions = None  # (the connection, {name: whether this session has it})

    def temporary_function(self, name: str, definition: str) -> bool:
        """Make the function `definition` (CREATE OR REPLACE FUNCTION pg_temp.name …) in this
        session, once per connection; False when the session may not make one (no TEMP
        privilege on the database), so that the caller sends its statements one by one.
        Made inside a transaction, it counts as made once that commits: a rollback takes it
        away again, and then it is made anew. Checked first as kept_cursor() is, so that a
        connection replaced by the health check is the one asked about."""
        self._checked()
        if self._functions is None or self._functions[0] is not self.connection:
            self._functions = (self.connection, {})
        made = self._functions[1]
        if name in made:
            return made[name]
        try:
            # In a savepoint: a refusal must not end the transaction it is made in.
            with transaction.atomic(using=self.alias), self.cursor() as cursor:
                cursor.execute(definition)
        except ProgrammingError:
            made[name] = False
            return False
        if self.in_atomic_block:
            self.on_commit(lambda: made.setdefault(name, True))
        elif self.get_autocommit():
            made[name] = True
        return True
