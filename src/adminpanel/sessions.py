"""Database sessions: Django's table and format, with fewer statements per login.

Profiling the code step of a login (benchmarks/code.py) found 8 of its 21 statements in
Django's database session backend: when a login rotates the key it asks whether a random
key is taken, inserts the new row at once (in a transaction of its own), reads and then
deletes the old row, and updates the new row again when the response is sent. Here:

- the old row becomes the new one when the session is saved, in one statement that gives it
  the new key and the data (a login saves it inside its own transaction, so the old key
  dies when the login commits; SessionMiddleware's save then finds nothing to write). A
  session flushed before it is saved takes the old row with it;
- reading, inserting, updating and deleting are single parameterized statements, not ORM
  queries: each ORM query costs about 0.2 ms of Python, and every request reads its session;
- the data is signed as Django signs it, but not compressed: zlib sets up about 256 KiB of
  state for each call, 0.05-0.1 ms to save a few hundred bytes per row. Django's decoding
  reads both, so rows written compressed before still load.
"""

import base64
import secrets

from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core import signing
from django.db import connections, router
from django.utils import timezone

from adminpanel import prepared

# The key of the session data that says the session passed the second factor.
TWO_FACTOR = "two_factor"
PURGE_BATCH = 100  # expired rows deleted per call: a bounded cost on the login that sweeps


def purge_expired() -> int:
    """Delete up to PURGE_BATCH session rows that have expired; called as logins go by, so
    that sessions nobody comes back to end (and visitors who never logged in) leave no rows.
    One indexed read when there is nothing to delete."""
    expired = SessionStore.get_model_class().objects.filter(expire_date__lt=timezone.now())
    keys = list(expired.values_list("session_key", flat=True)[:PURGE_BATCH])
    if not keys:
        return 0
    return expired.filter(session_key__in=keys).delete()[0]


class SessionStore(DatabaseSessionStore):
    def encode(self, session_dict: dict) -> str:
        return signing.dumps(session_dict, salt=self.key_salt, serializer=self.serializer)

    def _get_new_session_key(self) -> str:
        # 160 random bits as 32 characters of a-z2-7 (within Django's key alphabet), drawn in
        # one call: get_random_string() asks the OS once per character. No lookup first:
        # such keys do not collide, and if one did, the insert would find it taken and
        # create() would draw again.
        return base64.b32encode(secrets.token_bytes(20)).decode().lower()

    # The key whose row the next save() takes over (cycle_key), until then still in the table.
    _replaces: str | None = None

    def cycle_key(self) -> None:
        """A new key for the same data: the next save() moves the old row to it."""
        data = self._session
        self._replaces = self._replaces or self.session_key
        self._session_key = None  # the next save() creates the row under a new key
        self._session_cache = data
        self.modified = True

    def _table(self, using: str) -> str:
        return connections[using].ops.quote_name(self.model._meta.db_table)

    def load(self) -> dict:
        using = router.db_for_read(self.model)
        connection = connections[using]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        row = prepared.first_row(
            f"SELECT session_data FROM {self._table(using)} "  # noqa: S608 - our table name
            "WHERE session_key = %s AND expire_date > %s",
            [self.session_key, now],
            connection,
        )
        if row is None:
            self._session_key = None  # unknown or expired: a new session gets a new key
            return {}
        return self.decode(row[0])

    def delete(self, session_key: str | None = None) -> None:
        keys = [session_key] if session_key is not None else [self.session_key, self._replaces]
        keys = [key for key in keys if key]
        if session_key is None:
            self._replaces = None  # flushed before it was saved: its old row goes too
        if not keys:
            return
        using = router.db_for_write(self.model)
        with connections[using].cursor() as cursor:
            for key in keys:
                cursor.execute(
                    f"DELETE FROM {self._table(using)} WHERE session_key = %s",  # noqa: S608
                    [key],
                )

    def save(self, must_create: bool = False) -> None:
        """One INSERT or UPDATE statement, and none when the row already holds this data.

        A view may save the session inside its own transaction (a login does, so that its
        writes commit together); SessionMiddleware's save at the end then writes nothing
        more, and still sends the cookie.
        """
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        written = (self.session_key, self.serializer().dumps(data))
        if not must_create and written == self._written:
            return
        self._write(data, must_create)
        self._written = written

    _written: tuple[str, bytes] | None = None

    def _write(self, data: dict, must_create: bool) -> None:
        using = router.db_for_write(self.model)
        connection = connections[using]
        table = self._table(using)
        values = [
            self.encode(data),
            connection.ops.adapt_datetimefield_value(self.get_expiry_date()),
            self.session_key,
        ]
        if must_create and self._replaces:
            # The cycled key's row takes the new key and the data (with a login's other writes
            # in prepared.together()); unless it is gone (ended meanwhile) or the new key is
            # taken: then an INSERT as for a new session.
            prepared.write(
                f"UPDATE {table} SET session_data = %s, expire_date = %s, "  # noqa: S608
                f"session_key = %s WHERE session_key = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {table} WHERE session_key = %s) RETURNING 1",
                [*values, self._replaces, self.session_key],
                then=lambda moved: self._moved(moved, using, values),
            )
            return
        if must_create:
            self._insert(using, values)
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET session_data = %s, expire_date = %s "  # noqa: S608
                "WHERE session_key = %s",
                values,
            )
            if cursor.rowcount != 1:
                raise UpdateError  # ended meanwhile (logged out in another tab): Django's answer

    def _moved(self, moved: object, using: str, values: list) -> None:
        self._replaces = None
        if moved is None:  # its old row was gone already
            self._insert(using, values)

    def _insert(self, using: str, values: list) -> None:
        with connections[using].cursor() as cursor:
            # No exception on a taken key, so this also works inside a transaction.
            cursor.execute(
                f"INSERT INTO {self._table(using)} (session_data, expire_date, session_key) "  # noqa: S608
                "VALUES (%s, %s, %s) ON CONFLICT (session_key) DO NOTHING",
                values,
            )
            if cursor.rowcount != 1:
                raise CreateError  # the key is taken: create() draws another
