"""Postfix's lookups on SQLite, answered by the panel: a socketmap server (Postfix's
`socketmap:` protocol, netstrings over TCP) reading the contract views.

Postfix's own `sqlite:` client sets no busy timeout: when the panel commits while it looks up,
the Postfix daemon doing the lookup dies ("database is locked" is fatal there) and the master
throttles that service, so SMTP stalls. This server waits for the lock like any SQLite reader
(a busy timeout), so edits in the panel never stall mail. The keys are bound as parameters,
compared with `=`, and anything that is not a plain address gets NOTFOUND.

Postfix asks a socketmap table only for the address as it came (it is a "pattern" table, like
regexp:), so what Postfix does itself for its own tables happens here: "user+tag@domain" is
looked up as itself, then as "user@domain" (recipient_delimiter, split as Postfix splits), then,
for the alias table, as the domain's catch-all "@domain"; a tag matched that way is kept on the
addresses an alias answers (propagate_unmatched_extensions = virtual, Postfix's default).
An address of an alias domain answers its target's address, tag and all, which Postfix then
looks up again here.
"""

from __future__ import annotations

import socketserver
import sqlite3
import threading

from adminpanel.mailserver.background import BackgroundServer
from adminpanel.mailserver.config import DEAD_ALIAS_QUERY, POSTMASTER_QUERY, RECIPIENT_DELIMITER

MAX_REQUEST = 10_000
BUSY_TIMEOUT_SECONDS = 30
# Postfix opens a connection per daemon process that looks up (smtpd, cleanup,
# trivial-rewrite…): a few dozen on a busy host. More than this at once is not Postfix.
MAX_CONNECTIONS = 256
IDLE_TIMEOUT = 120.0  # seconds; Postfix itself closes an idle connection after 10

# name -> (query, how the key becomes its parameters)
QUERIES = {
    "domains": "SELECT domain FROM mailserver_domains WHERE domain = ? AND active",
    "mailboxes": (
        "SELECT maildir FROM mailserver_mailboxes WHERE local_part = ? AND domain = ? AND active"
    ),
    "aliases": "SELECT destination FROM mailserver_aliases WHERE address = ? AND active",
    "mailbox-self": (
        "SELECT address FROM mailserver_mailboxes WHERE local_part = ? AND domain = ? AND active"
    ),
    "inactive": (
        "SELECT 'REJECT This mailbox is disabled.' FROM mailserver_mailboxes "
        "WHERE local_part = ? AND domain = ? AND NOT active"
    ),
    "quota": (
        "SELECT 'adminpanel_quota' FROM mailserver_mailboxes "
        "WHERE local_part = ? AND domain = ? AND active"
    ),
    "dead-aliases": DEAD_ALIAS_QUERY.format(key="?"),
    "alias-domains": (
        "SELECT alias_domain FROM mailserver_alias_domains WHERE alias_domain = ? AND active"
    ),
    # Its key's domain: the target, whose own tables then say whether they take the address.
    "alias-domain-addresses": (
        "SELECT target_domain FROM mailserver_alias_domains WHERE alias_domain = ? AND active"
    ),
    "alias-domain-inactive": (
        "SELECT 'REJECT This mailbox is disabled.' FROM mailserver_alias_domains ad "
        "JOIN mailserver_mailboxes m ON m.domain = ad.target_domain "
        "WHERE m.local_part = ? AND ad.alias_domain = ? AND ad.active AND NOT m.active"
    ),
    "sender-logins": (
        "SELECT login FROM mailserver_sender_logins WHERE local_part = ? AND domain = ? AND active"
    ),
}
# "postmaster=ADDRESS": the operator's address comes with the table's name (config.py).
POSTMASTER = POSTMASTER_QUERY.format(address="?", local="?", domain="?")
ANY_MAILBOX = "SELECT 1 FROM mailserver_mailboxes WHERE local_part = ? AND domain = ?"
# Postfix asks a socketmap table only for the full address, never for "@domain": the
# catch-all is looked up here, after the address proved to be neither an alias nor a mailbox.
CATCH_ALL = "SELECT destination FROM mailserver_aliases WHERE address = ? AND active"
# Looked up by (local part, domain).
SPLIT = {
    "mailboxes",
    "mailbox-self",
    "inactive",
    "quota",
    "alias-domain-inactive",
    "sender-logins",
}
ADDRESSES = {"aliases", "mailbox-self"}  # answers are addresses: a matched-off tag goes on them
# Postfix never splits these local parts (split_addr(3)), whatever the delimiter.
UNSPLIT = {"postmaster", "mailer-daemon", "double-bounce"}


class ProtocolError(Exception):
    pass


def netstring(text: str) -> bytes:
    data = text.encode("utf-8")
    return str(len(data)).encode() + b":" + data + b","


def read_netstring(stream) -> bytes | None:
    """One netstring from a binary stream; None at a clean end of stream."""
    digits = b""
    while True:
        char = stream.read(1)
        if not char:
            if digits:
                raise ProtocolError("truncated length")
            return None
        if char == b":":
            break
        if not char.isdigit() or len(digits) > 5:
            raise ProtocolError("bad length")
        digits += char
    length = int(digits)
    if length > MAX_REQUEST:
        raise ProtocolError("request too long")
    data = stream.read(length)
    if len(data) != length or stream.read(1) != b",":
        raise ProtocolError("truncated request")
    return data


def _plain(key: str) -> bool:
    return bool(key) and key.isprintable() and " " not in key


def split_tag(address: str, delimiters: str = RECIPIENT_DELIMITER) -> tuple[str, str]:
    """("user@domain", "+tag") for "user+tag@domain", as Postfix splits an address at the
    first of its recipient delimiters; (address, "") when there is no tag."""
    local, at, domain = address.rpartition("@")
    if not at or local in UNSPLIT:
        return address, ""
    # Postfix's compatibility with list conventions when "-" is a delimiter.
    if "-" in delimiters and (local.startswith("owner-") or local.endswith("-request")):
        return address, ""
    cut = next((i for i, char in enumerate(local) if char in delimiters), -1)
    if cut <= 0:
        return address, ""
    return f"{local[:cut]}@{domain}", local[cut:]


def with_tag(address: str, tag: str) -> str:
    """The tag put back before the "@", as Postfix propagates an unmatched extension."""
    if not tag:
        return address
    local, at, domain = address.rpartition("@")
    return f"{local}{tag}@{domain}" if at else address + tag


class Lookups:
    """Answers one table lookup from the views, on one connection per thread."""

    def __init__(self, database_path: str):
        self.database_path = database_path
        self.local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.database_path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False
            )
            connection.execute("PRAGMA query_only = ON")
            self.local.connection = connection
        return connection

    def close(self) -> None:
        connection = getattr(self.local, "connection", None)
        if connection is not None:
            connection.close()
            self.local.connection = None

    def answer(self, request: bytes) -> str:
        """The socketmap reply ("OK value", "NOTFOUND ", "TEMP reason", "PERM reason")."""
        try:
            name, _, key = request.decode("utf-8").partition(" ")
        except UnicodeDecodeError:
            return "NOTFOUND "
        table, _, postmaster = name.partition("=")
        if name not in QUERIES and not (table == "postmaster" and _plain(postmaster)):
            return f"PERM unknown table {name[:40]!r}"
        key = key.lower()
        if not _plain(key):
            return "NOTFOUND "
        if table == "postmaster":
            return self._postmaster(postmaster, key)
        if name in SPLIT:
            local, at, domain = key.rpartition("@")
            if not at or not local or not domain:
                return "NOTFOUND "
        try:
            values = self._values(name, key)
        except sqlite3.Error as error:
            self.close()
            return f"TEMP {type(error).__name__}"
        if not values:
            return "NOTFOUND "
        return "OK " + ",".join(values)

    def _postmaster(self, address: str, key: str) -> str:
        local, at, domain = key.rpartition("@")
        if not (local and at and domain):
            return "NOTFOUND "
        try:
            rows = self._connection().execute(POSTMASTER, (address, local, domain, domain))
            found = rows.fetchall()
        except sqlite3.Error as error:
            self.close()
            return f"TEMP {type(error).__name__}"
        return f"OK {address}" if found else "NOTFOUND "

    def _values(self, name: str, key: str) -> list[str]:
        """The address as it came, then without its tag, then (aliases) the catch-all."""
        if name == "alias-domain-addresses":
            return self._on_target(key)
        bare, tag = split_tag(key)
        for address, matched_tag in [(key, "")] if bare == key else [(key, ""), (bare, tag)]:
            rows = self._rows(name, address)
            if rows:
                if name in ADDRESSES:
                    return [with_tag(str(row[0]), matched_tag) for row in rows]
                return [str(row[0]) for row in rows]
            if name == "aliases" and self._is_mailbox(address):
                return []  # a mailbox: never an alias's tag, never caught (mailbox-self answers)
        local, at, domain = bare.rpartition("@")
        if name != "aliases" or not (local and at and domain):
            return []
        rows = self._connection().execute(CATCH_ALL, ("@" + domain,)).fetchall()
        return [with_tag(str(row[0]), tag) for row in rows]

    def _on_target(self, key: str) -> list[str]:
        """local@alias-domain -> local@target (tag and all), when the target's own tables take
        local@target: a mailbox, an alias or the catch-all; an unknown one stays unknown."""
        local, at, domain = key.rpartition("@")
        if not (local and at and domain):
            return []
        rows = self._connection().execute(QUERIES["alias-domain-addresses"], (domain,))
        target = rows.fetchone()
        if target is None:
            return []
        address = f"{local}@{target[0]}"
        if self._values("mailbox-self", address) or self._values("aliases", address):
            return [address]
        return []

    def _rows(self, name: str, address: str) -> list:
        query = QUERIES[name]
        params = _parts(address) if name in SPLIT else (address,) * query.count("?")
        return self._connection().execute(query, params).fetchall()

    def _is_mailbox(self, address: str) -> bool:
        return bool(self._connection().execute(ANY_MAILBOX, _parts(address)).fetchall())


def _parts(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return local, domain


class _Handler(socketserver.StreamRequestHandler):
    def setup(self) -> None:
        # Postfix drops an idle socketmap connection after 10 s and any after 100 s
        # (dict_sockmap's max_idle and max_ttl): a client that says nothing for longer is not
        # Postfix, and must not hold a thread.
        self.request.settimeout(self.server.idle_timeout)  # type: ignore[attr-defined]
        super().setup()

    def handle(self) -> None:
        lookups: Lookups = self.server.lookups  # type: ignore[attr-defined]
        try:
            while True:
                try:
                    request = read_netstring(self.rfile)
                except ProtocolError:
                    return
                if request is None:
                    return
                self.wfile.write(netstring(lookups.answer(request)))
                self.wfile.flush()
        except OSError:
            return
        finally:
            lookups.close()


class LookupServer(BackgroundServer, socketserver.ThreadingTCPServer):
    """The socketmap server, one thread per Postfix connection (Postfix keeps them open), at
    most MAX_CONNECTIONS at once; a connection idle for IDLE_TIMEOUT seconds is closed."""

    daemon_threads = True
    thread_name = "socketmap"
    allow_reuse_address = True

    def __init__(
        self,
        database_path: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_connections: int = MAX_CONNECTIONS,
        idle_timeout: float = IDLE_TIMEOUT,
    ):
        super().__init__((host, port), _Handler)
        self.lookups = Lookups(database_path)
        self.idle_timeout = idle_timeout
        self.slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request, client_address) -> None:
        """A thread for the connection while a slot is free; beyond that it is closed at once
        (Postfix tries again: its lookup is deferred, never answered wrongly)."""
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()
