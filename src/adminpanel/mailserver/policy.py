"""Dovecot's auth policy server: a limit on password guessing per mailbox (issue 21 item 3).

Dovecot's own defenses are per IP (the anvil penalty) or a fixed delay (auth_failure_delay): an
attacker with many addresses guesses one mailbox's password as fast as Dovecot answers. Dovecot
asks this server before each login (`command=allow`) and reports each result (`command=report`);
after FAILURES consecutive failures of one mailbox, from any addresses, every login to it —
the right password too — is refused until WAIT seconds have passed since the last failure; a
success resets the count. The count lives in the database (mailserver_auth_failures, which the
mail role may write), not in this process: several Dovecot hosts share it, and a restart keeps it.
If this server is down, Dovecot lets logins through (auth_policy_reject_on_fail = no): the mail
keeps working, with only Dovecot's own defenses.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from adminpanel.mailserver.background import PooledServer
from adminpanel.mailserver.config import Database
from adminpanel.mailserver.purge import connect

FAILURES = 10
WAIT_SECONDS = 15 * 60
REFUSED = "Too many failed logins for this mailbox; try again later."


class Limits:
    def __init__(self, database: Database, failures: int = FAILURES, wait: int = WAIT_SECONDS):
        self.database = database
        self.failures = failures
        self.wait = wait
        self.marker = "?" if database.vendor == "sqlite" else "%s"
        # One database connection per serving thread, kept between requests: the pool's
        # threads are few and fixed (PolicyServer), so are the connections.
        self.local = threading.local()

    def _run(self, query: str, params: list) -> list:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = connect(self.database)
        try:
            cursor = connection.cursor()
            cursor.execute(query.replace("?", self.marker), params)
            rows = cursor.fetchall() if cursor.description else []
            connection.commit()
            return rows
        except Exception:
            self.close()  # the next request opens a fresh one (the database may have restarted)
            raise

    def close(self) -> None:
        """Close this thread's connection, if it has one."""
        connection = getattr(self.local, "connection", None)
        self.local.connection = None
        if connection is not None:
            connection.close()

    def allows(self, address: str, now: int) -> bool:
        rows = self._run(
            "SELECT 1 FROM mailserver_auth_failures "
            "WHERE address = ? AND failures >= ? AND last_failure > ?",
            [address, self.failures, now - self.wait],
        )
        return not rows

    def failed(self, address: str, now: int) -> None:
        # A failure after a quiet WAIT starts a new count: old failures are forgiven.
        self._run(
            "INSERT INTO mailserver_auth_failures (address, failures, last_failure) "
            "VALUES (?, 1, ?) ON CONFLICT (address) DO UPDATE SET "
            "failures = CASE WHEN mailserver_auth_failures.last_failure <= ? THEN 1 "
            "ELSE mailserver_auth_failures.failures + 1 END, last_failure = excluded.last_failure",
            [address, now, now - self.wait],
        )

    def succeeded(self, address: str) -> None:
        self._run("DELETE FROM mailserver_auth_failures WHERE address = ?", [address])


def _handler(limits: Limits):
    class Handler(BaseHTTPRequestHandler):
        # An idle or slow client holds a worker for at most the pool's idle_timeout.

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            command = parse_qs(urlsplit(self.path).query).get("command", [""])[0]
            try:
                length = min(int(self.headers.get("Content-Length") or 0), 65536)
                body = json.loads(self.rfile.read(length) or b"{}")
                address = str(body.get("login") or "").strip().lower()
            except (ValueError, AttributeError):
                self.send_error(400)
                return
            now = int(time.time())
            status = 0
            if address and command == "allow" and not limits.allows(address, now):
                status = -1
            elif address and command == "report" and not body.get("policy_reject"):
                if body.get("success"):
                    limits.succeeded(address)
                else:
                    limits.failed(address, now)
            answer = json.dumps({"status": status, "msg": REFUSED if status else ""}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass  # one line per login attempt would flood the log; Dovecot logs refusals

    return Handler


class PolicyServer(PooledServer, HTTPServer):
    """Dovecot's auth policy over HTTP, served by a fixed pool of threads (each with its own
    database connection): a flood of connections waits or is closed, never grows threads."""

    thread_name = "auth-policy"

    def __init__(
        self,
        limits: Limits,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        workers: int = PooledServer.workers,
        idle_timeout: float = PooledServer.idle_timeout,
    ):
        super().__init__((host, port), _handler(limits))
        self.limits = limits
        self.workers, self.idle_timeout = workers, idle_timeout
        self.start_pool()

    def worker_done(self) -> None:
        self.limits.close()
