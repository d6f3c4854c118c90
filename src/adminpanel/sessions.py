"""Database sessions, Django's table and format, with fewer round trips per login.

Django's database backend writes a session three times when a login rotates its key: it
asks whether a random key is taken, inserts the new row at once (in its own transaction),
reads and deletes the old row, and updates the new row again when the response is sent.
Profiling the code step of a login (benchmarks/code.py) showed these session writes as
8 of its 21 statements. Here the old row is deleted at once (a planted session id dies
immediately, as before) and the new row is written once, when the response saves the session.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    router,
)
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        # 32 characters of 36 (165 bits) never collide in practice, and if they did the insert
        # (must_create) would fail on the primary key and create() would draw again.
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self) -> None:
        """A new key for the same data; the old row goes now, the new one is written once."""
        data = self._session
        old_key = self.session_key
        self._session_key = None  # the response's save() creates the row under a new key
        self._session_cache = data
        self.modified = True
        if old_key:
            self.delete(old_key)

    def delete(self, session_key: str | None = None) -> None:
        key = session_key if session_key is not None else self.session_key
        if key is None:
            return
        using = router.db_for_write(self.model)
        table = connections[using].ops.quote_name(self.model._meta.db_table)
        with connections[using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE session_key = %s", [key])  # noqa: S608

    def save(self, must_create: bool = False) -> None:
        """One INSERT or UPDATE; Django's own wraps it in a transaction of its own as well."""
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        if connections[using].in_atomic_block:
            return super().save(must_create)  # inside a transaction: keep Django's savepoint
        try:
            # Autocommit: a single statement is its own transaction.
            obj.save(force_insert=must_create, force_update=not must_create, using=using)
        except (OperationalError, InterfaceError):
            raise  # a lost database is a 503 (DatabaseUnavailableMiddleware), not a lost session
        except IntegrityError as error:
            if must_create:
                raise CreateError from error
            raise
        except DatabaseError as error:
            if not must_create:
                raise UpdateError from error
            raise
