"""Django's PostgreSQL backend (the ENGINE settings.py gives a PostgreSQL URL), with one change:
the health check of a kept connection (CONN_HEALTH_CHECKS, before the first query of each
request) looks at the connection instead of sending `SELECT 1` and waiting for the answer.

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

    _kept_on = None  # the psycopg connection whose cursors _kept holds
    _kept: dict[bool, object]

    def kept_cursor(self, *, client_side_binding: bool = False):
        """A cursor of the open connection, made once per connection, for statements whose rows
        are read at once (adminpanel.prepared): never for a query read as it goes.

        client_side_binding: psycopg's ClientCursor (Django's `Cursor`), which puts the values
        into the statement's text, quoted by psycopg, so that several statements separated by
        semicolons go as one message (prepared.last_row). It reads with the connection's
        adapters (their time zone is the connection's, as for Django's cursors)."""
        if self._kept_on is not self.connection:
            self._kept_on, self._kept = self.connection, {}
        cursor = self._kept.get(client_side_binding)
        if cursor is None or cursor.closed:
            if client_side_binding:
                cursor = base.Cursor(self.connection)
            else:
                cursor = self.create_cursor()
            self._kept[client_side_binding] = cursor
        return cursor
