"""On SQLite, Dovecot opens the panel's database file itself (issue 21): its lookups open it
read-only, and the processes that open it (auth workers, the dict) run as the file's owner, the
panel's user, never as root. The lookups through these settings run against a real Dovecot in
tests/mailserver (every login, delivery and Sieve script of the SQLite pass)."""

import os
import pwd
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from adminpanel.mailserver import config

NOBODY = pwd.getpwnam("nobody")


@pytest.fixture
def files(tmp_path) -> dict[str, str]:
    """The generated files for a panel database owned by `nobody`, in a path with a space."""
    path = tmp_path / "panel data" / "adminpanel.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as database:
        database.execute("CREATE TABLE mailserver_usage (address TEXT, bytes INTEGER)")
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    layout = replace(config.debian_layout(), app_password_pepper="0123456789abcdef" * 2)
    rendered = config.render(config.Database("sqlite", str(path)), layout)
    return {name: text for name, (text, _) in rendered.items()}


def connect_line(text: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith("connect = ")]
    return line.removeprefix("connect = ")


def test_the_auth_workers_and_the_dict_run_as_the_databases_owner_not_root(files):
    dovecot = files["dovecot/adminpanel.conf"]
    assert "service dict {\n  user = nobody\n}" in dovecot
    assert "service auth-worker {\n  user = nobody\n}" in dovecot
    assert "user = root" not in dovecot


@pytest.mark.parametrize(
    "name",
    [
        "dovecot/sql.conf.ext",
        "dovecot/app-passwords.conf.ext",
        "dovecot/mailbox-password.conf.ext",
        "dovecot/sieve-dict.conf.ext",
    ],
)
def test_the_lookups_open_the_database_read_only(files, name):
    uri = connect_line(files[name])
    assert uri.startswith("file:") and uri.endswith("?mode=ro")
    # What sqlite3_open makes of it, as Dovecot calls it: the same file, and no write.
    with sqlite3.connect(uri, uri=True) as database:
        assert database.execute("SELECT count(*) FROM mailserver_usage").fetchone() == (0,)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            database.execute("INSERT INTO mailserver_usage VALUES ('a@b.example', 1)")


def test_only_the_usage_dict_may_write(files):
    assert Path(connect_line(files["dovecot/usage-dict.conf.ext"])).name == "adminpanel.sqlite3"
