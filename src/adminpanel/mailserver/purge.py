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


class PurgeError(Exception):
    pass


def connect(database: Database):
    if database.vendor == "sqlite":
        return sqlite3.connect(database.name, timeout=30)
    return psycopg.connect(database.dovecot_connect(), autocommit=False)


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
    connection = connect(database)
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
