"""Ending a mailbox's open IMAP sessions, run where Dovecot runs (issue 21 item 7).

Web sessions end when a password changes; IMAP sessions must too, but the panel may not run
where Dovecot runs. As for the purge, the panel only writes a request (end_sessions.py, in the
transaction of the change); the mail host (`adminpanel mailserver-end-sessions --every 2`, or
`mailserver-run` itself) reads the view mailserver_end_sessions, runs `doveadm kick ADDRESS`
and records the request in mailserver_host_sessions_ended under its own name: with several
mail hosts (each Dovecot holds its own sessions), each acts on every request once. The mail
role needs SELECT on the view and SELECT and INSERT on that table, nothing else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Sequence

from adminpanel.mailserver.config import Database
from adminpanel.mailserver.purge import connect_for_housekeeping

# The requests this host has not carried out yet (the panel forgets requests after a day).
DUE = (
    "SELECT v.id, v.address FROM mailserver_end_sessions v WHERE NOT EXISTS ("
    "SELECT 1 FROM mailserver_host_sessions_ended e WHERE e.request_id = v.id AND e.host = ?"
    ") ORDER BY v.id"
)
WILDCARDS = frozenset("*?")


class EndSessionsError(Exception):
    pass


def _doveadm(doveadm: Sequence[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - no shell; the address is one argument
        [*doveadm, *args], capture_output=True, text=True, timeout=60, check=False
    )


def _end(doveadm: Sequence[str], address: str) -> None:
    """End the address's sessions. `doveadm kick` takes a mask (* and ? match anything), and a
    local part may hold either: such an address's own processes are found by `doveadm who`
    and ended one by one, so "a*z" never disconnects "abcz"."""
    if WILDCARDS.isdisjoint(address):
        done = _doveadm(doveadm, "kick", "--", address)
        # doveadm kick exits 0 when it kicked someone, 68 (EX_NOUSER) when nobody was on.
        if done.returncode not in (0, 68):
            raise EndSessionsError(
                f"doveadm kick {address} failed ({done.returncode}): {done.stderr.strip()}"
            )
        return
    who = _doveadm(doveadm, "who", "-1", "--", address)
    if who.returncode not in (0, 68):
        raise EndSessionsError(f"doveadm who failed ({who.returncode}): {who.stderr.strip()}")
    for line in who.stdout.splitlines()[1:]:  # "username proto pid ip", after a header
        columns = line.split()
        if len(columns) >= 3 and columns[0].lower() == address and columns[2].isdigit():
            try:
                os.kill(int(columns[2]), signal.SIGTERM)
            except ProcessLookupError:
                pass


def host_name() -> str:
    """This mail host's name among the hosts that end sessions (`--host-name`'s default)."""
    return socket.gethostname()


def end_requested(database: Database, doveadm: Sequence[str], host: str) -> list[str]:
    """Kick the sessions of every address asked for that `host` has not yet, and record each
    request as carried out by `host`; returns the addresses. `doveadm`: the command before
    `kick`, e.g. ["doveadm", "-c", CONF]."""
    marker = "?" if database.vendor == "sqlite" else "%s"
    # The same host run twice at once (a restart overlapping) may have recorded the same
    # request in the meantime: that is no error (SQLite and PostgreSQL both take ON CONFLICT).
    record = (
        "INSERT INTO mailserver_host_sessions_ended (request_id, host, ended_at) "  # noqa: S608 - a fixed placeholder
        f"VALUES ({marker}, {marker}, CURRENT_TIMESTAMP) ON CONFLICT (request_id, host) DO NOTHING"
    )
    ended = []
    connection = connect_for_housekeeping(database)
    try:
        cursor = connection.cursor()
        cursor.execute(DUE.replace("?", marker), [host])
        due = cursor.fetchall()
        connection.commit()
        for request_id, address in due:
            _end(doveadm, address)
            cursor.execute(record, [request_id, host])
            connection.commit()
            ended.append(address)
    finally:
        connection.close()
    return ended
