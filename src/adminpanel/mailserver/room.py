"""Postfix's end-of-data policy: a message that does not fit the room left in its mailbox is
refused while the sender is still connected (issue 21: backscatter).

At RCPT TO, Dovecot's quota-status refuses a mailbox that is full, and one the declared size
(SIZE=) does not fit. A client that declares no size is asked about 1 byte there, so a message
bigger than the room left was accepted, refused by Dovecot at delivery and bounced to a sender
who may be forged. Dovecot 2.3's quota-status answers only at RCPT TO, so Postfix asks this
server at the end of DATA (`smtpd_end_of_data_restrictions`), when it knows the size: the
mailbox's quota and the storage Dovecot last reported (mailserver_usage, its quota_clone) give
the room left, with Dovecot's own grace (QUOTA_GRACE_PERCENT). Postfix names the recipient at
that stage only when there is one; a message for several gets DUNNO, as from Dovecot 2.4's
quota-status. Anything unexpected answers DUNNO: this server never refuses mail it cannot
judge, and Postfix goes on without it when it is down (default_action=DUNNO).
"""

from __future__ import annotations

import logging
import socketserver
import threading

from adminpanel.mailserver.background import CappedThreads
from adminpanel.mailserver.config import QUOTA_GRACE_PERCENT, Database
from adminpanel.mailserver.lookup import split_tag
from adminpanel.mailserver.purge import connect

logger = logging.getLogger(__name__)

REFUSED = "552 5.2.2 Mailbox is full: this message is larger than the room left in it"
MAX_LINE = 2048  # Postfix's attributes are short; a longer line is not Postfix
MAX_ATTRIBUTES = 100
ROOM = (
    "SELECT m.quota_bytes, COALESCE((SELECT u.bytes FROM mailserver_usage u "
    "WHERE u.address = m.address), 0) FROM mailserver_mailboxes m "
    "WHERE m.local_part = ? AND m.domain = ? AND m.active"
)
TARGET = "SELECT target_domain FROM mailserver_alias_domains WHERE alias_domain = ? AND active"


def fits(size: int, quota: int, used: int) -> bool:
    """Whether Dovecot stores a message of this size: within the quota, or, for a mailbox under
    its quota, within the quota plus the grace (Dovecot's quota_grace, set to the same)."""
    if used + size <= quota:
        return True
    return used < quota and used + size <= quota + quota * QUOTA_GRACE_PERCENT // 100


class Room:
    """Answers one policy request from the views, on one database connection per thread."""

    def __init__(self, database: Database):
        self.database = database
        self.marker = "?" if database.vendor == "sqlite" else "%s"
        self.local = threading.local()

    def _rows(self, query: str, params: tuple) -> list:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = connect(self.database)
        try:
            cursor = connection.cursor()
            cursor.execute(query.replace("?", self.marker), params)
            rows = cursor.fetchall()
            connection.commit()
            return rows
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        connection = getattr(self.local, "connection", None)
        self.local.connection = None
        if connection is not None:
            connection.close()

    def action(self, request: dict[str, str]) -> str:
        """DUNNO, or the refusal for a message that does not fit its one recipient's mailbox."""
        recipient = request.get("recipient", "").strip().lower()
        size = request.get("size", "")
        if request.get("protocol_state") != "END-OF-MESSAGE" or not recipient:
            return "DUNNO"
        if not size.isdigit():
            return "DUNNO"
        address, _ = split_tag(recipient)
        local, at, domain = address.rpartition("@")
        if not (local and at and domain):
            return "DUNNO"
        try:
            target = self._rows(TARGET, (domain,))
            found = self._rows(ROOM, (local, target[0][0] if target else domain))
        except Exception as error:  # noqa: BLE001 - any database trouble: let the mail through
            logger.warning("room left for %s not known: %s", recipient, type(error).__name__)
            return "DUNNO"
        if not found:
            return "DUNNO"
        quota, used = (int(value) for value in found[0])
        return "DUNNO" if fits(int(size), quota, used) else REFUSED


class _Handler(socketserver.StreamRequestHandler):
    """Postfix's policy protocol: name=value lines, an empty line, the answer; repeated on one
    connection that Postfix keeps open."""

    def handle(self) -> None:
        room: Room = self.server.room  # type: ignore[attr-defined]
        try:
            while (request := self._request()) is not None:
                self.wfile.write(f"action={room.action(request)}\n\n".encode())
                self.wfile.flush()
        except (OSError, ValueError):
            return
        finally:
            room.close()

    def _request(self) -> dict[str, str] | None:
        attributes: dict[str, str] = {}
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line or not line.endswith(b"\n") or len(attributes) > MAX_ATTRIBUTES:
                return None  # closed, or not Postfix
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if not text:
                return attributes
            name, _, value = text.partition("=")
            attributes[name] = value


class RoomServer(CappedThreads, socketserver.ThreadingTCPServer):
    """The end-of-data policy, one thread per Postfix connection (smtpd keeps its connection
    for up to max_idle, which the generated settings make shorter than our idle_timeout)."""

    thread_name = "room-policy"

    def __init__(
        self,
        database: Database,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_connections: int = CappedThreads.max_connections,
        idle_timeout: float = CappedThreads.idle_timeout,
    ):
        super().__init__((host, port), _Handler)
        self.room = Room(database)
        self.cap_threads(max_connections, idle_timeout)
