"""On SQLite, Dovecot reads and writes the panel's database as the file's owner, not as root
(issue 21): a panel whose database belongs to another user (`nobody` here) still has its
logins, deliveries and storage figures, with Dovecot's auth workers and dict running as that
user and its lookups opening the file read-only (tests/unit/test_dovecot_sqlite_door.py)."""

import os
import pwd
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from adminpanel.mailserver.config import Database
from adminpanel.mailserver.instance import PrivateMailServer
from testbed.postgres import free_port
from tests.mailserver.mail import can_log_in, send, unique_subject, wait_for, wait_until
from tests.mailserver.mail_data import PASSWORD, add_mailbox

NOBODY = pwd.getpwnam("nobody")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="Dovecot opens the file on SQLite"),
]


def dovecot_processes(server: PrivateMailServer) -> dict[str, set[int]]:
    """The instance's Dovecot processes by title ("auth worker", "dict", …): their uids."""
    master = int((server.dir / "run" / "master.pid").read_text())
    found: dict[str, set[int]] = {}
    for proc in Path("/proc").iterdir():
        try:
            status = dict(
                line.split(":\t", 1) for line in (proc / "status").read_text().splitlines()
            )
        except (OSError, ValueError):
            continue
        if int(status.get("PPid", "0")) == master:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            name = argv[0].rsplit("/", 1)[-1]
            if name == "auth" and "-w" in argv:  # "…/auth -w": an auth worker
                name = "auth worker"
            found.setdefault(name, set()).add(int(status["Uid"].split()[0]))
    return found


def test_dovecot_uses_a_database_owned_by_the_panels_user_without_root(admin_api, domain):
    add_mailbox(admin_api, f"anna@{domain}")
    directory = Path(tempfile.mkdtemp(prefix="adminpanel-owner-test-"))
    data = directory / "panel"
    data.mkdir()
    copy = data / "adminpanel.sqlite3"
    with sqlite3.connect(connection.settings_dict["NAME"]) as original:
        with sqlite3.connect(copy) as target:
            original.backup(target)
    for path in [data, copy]:
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    data.chmod(0o700)  # the panel's data dir: nobody else may even look
    directory.chmod(0o755)
    server = PrivateMailServer(
        directory / "mail", Database("sqlite", str(copy)), smtp_port=free_port(),
        imap_port=free_port(),
    )  # fmt: skip
    try:
        server.start()
        assert can_log_in(server, f"anna@{domain}", PASSWORD)
        subject = unique_subject("Owned")
        send(server, f"anna@{domain}", subject)
        found = wait_for(server, f"anna@{domain}", PASSWORD, subject)
        assert subject in found, server.log_tail()

        def usage_written() -> bool:
            with sqlite3.connect(f"file:{copy}?mode=ro", uri=True) as database:
                rows = database.execute(
                    "SELECT bytes FROM mailserver_usage WHERE address = ?", (f"anna@{domain}",)
                ).fetchall()
            return bool(rows) and rows[0][0] > 0

        assert wait_until(usage_written)  # the dict, as nobody, wrote the storage figure
        processes = dovecot_processes(server)
        assert processes["auth worker"] == {NOBODY.pw_uid}, processes
        assert processes["dict"] == {NOBODY.pw_uid}, processes
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
