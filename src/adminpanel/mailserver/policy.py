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

The same for one client IP address (issue 22): after IP_FAILURES consecutive failures from it,
to any mailboxes, every login from it is refused for WAIT seconds; a success from it resets the
count (an office behind one address with one mistyping phone is not locked out for good). And
each report is kept in mailserver_mail_logins (IMAP and SMTP AUTH alike: Postfix asks Dovecot),
which the panel folds into the Logs and the app passwords' "last used" (mail.app_passwords).
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from adminpanel.mailserver.background import BackgroundServer
from adminpanel.mailserver.config import Database
from adminpanel.mailserver.purge import connect

FAILURES = 10
IP_FAILURES = 100
WAIT_SECONDS = 15 * 60
REFUSED = "Too many failed logins for this mailbox; try again later."
# What Dovecot reports is the client's; only this much of each field is kept.
MAX_ADDRESS = 320
MAX_IP = 64
MAX_PROTOCOL = 16
MAX_CREDENTIAL = 32


class Limits:
    def __init__(
        self,
        database: Database,
        failures: int = FAILURES,
        wait: int = WAIT_SECONDS,
        ip_failures: int = IP_FAILURES,
    ):
        self.database = database
        self.failures = failures
        self.wait = wait
        self.ip_failures = ip_failures
        self.marker = "?" if database.vendor == "sqlite" else "%s"

    def _run(self, *statements: tuple[str, list]) -> list:
        """The statements on one connection, each committed at once (one table locked at a
        time: nothing to deadlock with the panel's own writes); the rows of the last."""
        connection = connect(self.database)
        try:
            cursor = connection.cursor()
            rows: list = []
            for query, params in statements:
                cursor.execute(query.replace("?", self.marker), params)
                rows = cursor.fetchall() if cursor.description else []
                connection.commit()
            return rows
        finally:
            connection.close()

    def allows(self, address: str, now: int, ip: str = "") -> bool:
        rows = self._run(
            (
                "SELECT 1 FROM mailserver_auth_failures "
                "WHERE address = ? AND failures >= ? AND last_failure > ? "
                "UNION ALL SELECT 1 FROM mailserver_ip_auth_failures "
                "WHERE ip = ? AND failures >= ? AND last_failure > ?",
                [address, self.failures, now - self.wait, ip, self.ip_failures, now - self.wait],
            )
        )
        return not rows

    def _count_failure(self, table: str, key: str, value: str, now: int) -> tuple[str, list]:
        # A failure after a quiet WAIT starts a new count: old failures are forgiven.
        return (
            f"INSERT INTO {table} ({key}, failures, last_failure) "  # noqa: S608 - fixed names
            f"VALUES (?, 1, ?) ON CONFLICT ({key}) DO UPDATE SET "
            f"failures = CASE WHEN {table}.last_failure <= ? THEN 1 "
            f"ELSE {table}.failures + 1 END, last_failure = excluded.last_failure",
            [value, now, now - self.wait],
        )

    def failed(self, address: str, now: int, ip: str = "", logged: dict | None = None) -> None:
        statements = [self._count_failure("mailserver_auth_failures", "address", address, now)]
        if ip:
            statements.append(self._count_failure("mailserver_ip_auth_failures", "ip", ip, now))
        self._run(*statements, *self._logged(logged))

    def succeeded(self, address: str, ip: str = "", logged: dict | None = None) -> None:
        self._run(
            ("DELETE FROM mailserver_auth_failures WHERE address = ?", [address]),
            ("DELETE FROM mailserver_ip_auth_failures WHERE ip = ?", [ip]),
            *self._logged(logged),
        )

    def refused(self, logged: dict) -> None:
        """A login the limit refused before any password was checked: only kept."""
        self._run(*self._logged(logged))

    @staticmethod
    def _logged(login: dict | None) -> list[tuple[str, list]]:
        if login is None:
            return []
        columns = ["at", "address", "credential", "protocol", "ip", "success", "throttled"]
        return [
            (
                f"INSERT INTO mailserver_mail_logins ({', '.join(columns)}) "  # noqa: S608
                f"VALUES ({', '.join('?' for _ in columns)})",
                [login[column] for column in columns],
            )
        ]


def _field(body: dict, name: str, limit: int) -> str:
    """A text field of the report as the database can hold it (no NUL, no lone surrogate)."""
    value = body.get(name)
    if not isinstance(value, str):
        return ""
    value = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return value.strip()[:limit]


def report_of(body: dict, now: int) -> dict:
    """What is kept of one of Dovecot's reports (mailserver_mail_logins' columns)."""
    return {
        "at": now,
        "address": _field(body, "login", MAX_ADDRESS).lower(),
        "credential": _field(body, "credential", MAX_CREDENTIAL),
        "protocol": _field(body, "protocol", MAX_PROTOCOL).lower(),
        "ip": _field(body, "remote", MAX_IP),
        "success": bool(body.get("success")) and not body.get("policy_reject"),
        "throttled": bool(body.get("policy_reject")),
    }


def _handler(limits: Limits):
    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # an idle or slow client does not hold a thread

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            command = parse_qs(urlsplit(self.path).query).get("command", [""])[0]
            try:
                length = min(int(self.headers.get("Content-Length") or 0), 65536)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                address = _field(body, "login", MAX_ADDRESS).lower()
            except (ValueError, AttributeError):
                self.send_error(400)
                return
            now = int(time.time())
            status = 0
            ip = _field(body, "remote", MAX_IP)
            if address and command == "allow" and not limits.allows(address, now, ip):
                status = -1
            elif address and command == "report":
                login = report_of(body, now)
                if body.get("policy_reject"):
                    limits.refused(login)
                elif body.get("success"):
                    limits.succeeded(address, ip, login)
                else:
                    limits.failed(address, now, ip, login)
            answer = json.dumps({"status": status, "msg": REFUSED if status else ""}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass  # one line per login attempt would flood the log; Dovecot logs refusals

    return Handler


class PolicyServer(BackgroundServer, ThreadingHTTPServer):
    daemon_threads = True
    thread_name = "auth-policy"

    def __init__(self, limits: Limits, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), _handler(limits))
