"""A race with the person's lock, for tests of what a read made after the lock sees."""

import threading
import time
from collections.abc import Callable

from django.db import connections, transaction

from adminpanel import prepared

LOCK = "SELECT id FROM people_person WHERE id = %s FOR UPDATE"


def read_after_a_held_lock(
    person_id: int, write: Callable[[], object], read: Callable[[], object]
) -> tuple[object, float]:
    """Another connection locks the person's row, and writes (write()) and commits while
    read() (in its own transaction, locking the row itself) waits for that lock: (what read()
    gave, the seconds it took)."""
    locked, release = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                prepared.first_row(LOCK, [person_id])
                locked.set()
                release.wait(10)
                write()
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(10)
    threading.Timer(0.3, release.set).start()  # commits while the read waits for the lock
    started = time.monotonic()
    with transaction.atomic():
        row = read()
    thread.join()
    return row, time.monotonic() - started
