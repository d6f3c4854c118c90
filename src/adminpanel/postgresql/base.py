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

    _kept = None  # kept_cursor()'s cursor

    def kept_cursor(self):
        """A cursor of the open connection, made once per connection, for statements whose row
        is read at once (adminpanel.prepared.first_row): never for a query read as it goes.
        Checked as cursor() checks (the health check, the connection opened, the thread)."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        self.validate_thread_sharing()
        kept = self._kept
        if kept is None or kept.closed or kept.connection is not self.connection:
            with self.wrap_database_errors:
                kept = self._kept = self.create_cursor()
        return kept
