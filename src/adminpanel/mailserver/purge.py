"""The purge, run where the maildirs are (SPEC §16): the mail host removes the maildirs of
deleted mailboxes whose grace period is over, and says so in the database.

The maildirs live where Dovecot runs, which may not be where the panel runs, so the panel
never touches them: it lists what is due in the contract view `mailserver_purge`, and the mail
host (`adminpanel mailserver-purge`, from cron or a timer; `mailserver-run` runs it itself)
removes each maildir under its mail root and records it in `mailserver_purged`. It needs no
more of the database than the mail role has: SELECT on the view, INSERT on that table.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import psycopg

from adminpanel.mailserver.config import Database

DUE = "SELECT maildir FROM mailserver_purge"
# A maildir the panel chose ("domain/local.token/") or an older one ("domain/local/"): one
# or more plain components, never "." or "..", never absolute.
MAILDIR = re.compile(r"\A(?:[a-z0-9._+-]*[a-z0-9_+-][a-z0-9._+-]*/)+\Z")


# The mail host's periodic work (this purge, ending sessions, the DKIM tables) is done again at
# its next run, so on PostgreSQL it gives way to the panel's schema changes: a statement that
# waits this long for a lock fails instead of holding up a migration's exclusive locks. Taking
# them one table at a time, a migration (or a test's TRUNCATE) deadlocked with a read of two
# tables that had one and waited for the other.
HOUSEKEEPING_LOCK_TIMEOUT_MS = 100
# What the database may raise at a run (a lock it gave way to, a restarting server): a run that
# repeats says so in one line and tries again at its next run.
DATABASE_ERRORS = (sqlite3.Error, psycopg.Error)


class PurgeError(Exception):
    pass


def connect(database: Database, **options):
    if database.vendor == "sqlite":
        return sqlite3.connect(database.name, timeout=30)
    return psycopg.connect(database.dovecot_connect(), autocommit=False, **options)


def connect_for_housekeeping(database: Database):
    """A connection for the mail host's periodic work, which gives way to schema changes (the
    setting travels with the connection's start: no statement of its own)."""
    return connect(database, options=f"-c lock_timeout={HOUSEKEEPING_LOCK_TIMEOUT_MS}")


def inside(mail_root: Path, maildir: str) -> Path:
    """The maildir's path under the mail root (its last component not resolved, so a symlink
    there is seen as one); PurgeError for anything that would leave the root."""
    if not MAILDIR.match(maildir) or any(p in (".", "..") for p in maildir.split("/")):
        raise PurgeError(f"not a maildir the panel gives: {maildir!r}")
    root = mail_root.resolve()
    path = root / maildir.rstrip("/")
    parent = path.parent.resolve()
    if parent != root and root not in parent.parents:
        raise PurgeError(f"{maildir!r} leads out of {root}")
    return parent / path.name


def purge_due(database: Database, mail_root: Path) -> list[str]:
    """Remove every due maildir under mail_root and record it; returns the maildirs purged.

    A maildir already gone counts as purged. A symlink is never followed: the link itself is
    removed, not what it points to."""
    purged = []
    marker = "?" if database.vendor == "sqlite" else "%s"
    record = (
        f"INSERT INTO mailserver_purged (maildir, purged_at) VALUES ({marker}, CURRENT_TIMESTAMP)"  # noqa: S608, E501 - a fixed placeholder
    )
    connection = connect_for_housekeeping(database)
    try:
        cursor = connection.cursor()
        cursor.execute(DUE)
        due = [row[0] for row in cursor.fetchall()]
        connection.commit()
        for maildir in due:
            path = inside(mail_root, maildir)
            if path.is_symlink() or path.is_file():
                path.unlink()
            elif path.exists():
                shutil.rmtree(path)
            cursor.execute(record, [maildir])
            connection.commit()
            purged.append(maildir)
    finally:
        connection.close()
    return purged
