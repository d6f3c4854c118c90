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

    _session = None  # _Session of the connection it was made for

    def _session_state(self) -> "_Session":
        """What this backend keeps for the open connection's session, made anew for a new
        connection. Checked first as Django's cursor() checks: the health check (a connection
        the server ended is replaced here, before it is used), the connection opened, the
        thread."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        self.validate_thread_sharing()
        if self._session is None or self._session.connection is not self.connection:
            self._session = _Session(self.connection)
        return self._session

    def kept_cursor(self):
        """A cursor of the open connection, made once per connection, for statements whose row
        is read at once (adminpanel.prepared.first_row): never for a query read as it goes."""
        session = self._session_state()
        if session.cursor is None or session.cursor.closed:
            with self.wrap_database_errors:
                session.cursor = self.create_cursor()
        return session.cursor

    @property
    def keeps_session_state(self) -> bool:
        """Whether the session may hold state between transactions (prepared statements, the
        session's functions): not behind a pooler that hands each transaction to any server
        connection, for which the URL says `?server_side_binding=false` (README)."""
        return bool(self.settings_dict["OPTIONS"].get("server_side_binding"))

    def temporary_function(self, name: str, definition: str) -> bool:
        """Make the function `definition` (CREATE OR REPLACE FUNCTION pg_temp.name …) in this
        session, once per connection; False when the session may not make one (no TEMP
        privilege on the database), so that the caller sends its statements one by one.
        Made inside a transaction, it counts as made once that commits: a rollback takes it
        away again, and then it is made anew. A connection replaced by the health check is
        the one asked about (_session_state)."""
        made = self._session_state().functions
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


class _Session:
    """A connection's session as the backend keeps it: its kept cursor and its functions."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.cursor = None  # kept_cursor()'s, made on first use
        self.functions: dict[str, bool] = {}  # name: whether this session has it
