"""The From: check on submission (SPEC §15): a Postfix milter that refuses, at the end of DATA,
a message whose From: header names an address the logged-in mailbox may not send as.

Postfix itself checks the envelope (reject_sender_login_mismatch with smtpd_sender_login_maps)
but nothing in Postfix compares a header with the SASL login, and no milter Debian ships does
(OpenDKIM signs, OpenDMARC checks a domain's alignment, not a mailbox's). So this small one
speaks the milter protocol (version 6, as Postfix's smtpd_milters speak it) over TCP: it takes
the login from the {auth_authen} macro, collects the From: headers, and at the end of the
headers answers 550 unless there is exactly one From: whose every address the login owns in
the contract view mailserver_sender_logins (a +tag is the address without it, case does not
count). Postfix gives that answer after the client's final ".". If this server is down or the
database does not answer, Postfix (milter_default_action) and this server answer 4xx: a
refusal never becomes a pass.
"""

from __future__ import annotations

import socketserver
import sqlite3
import struct
from email import message_from_bytes
from email.errors import HeaderParseError
from email.policy import SMTP

import psycopg

from adminpanel.mailserver.background import BackgroundServer
from adminpanel.mailserver.config import Database
from adminpanel.mailserver.lookup import split_tag
from adminpanel.mailserver.purge import connect

OWNS = (
    "SELECT 1 FROM mailserver_sender_logins "
    "WHERE local_part = ? AND domain = ? AND login = ? AND active"
)
MAX_PACKET = 1 << 20  # Postfix's header_size_limit is 100 kB; a larger packet is not Postfix
IDLE_TIMEOUT = 300.0  # seconds (Postfix's milter_content_timeout)
VERSION = 6
# Postfix need not send what this check does not read: connect, HELO, RCPT, the body,
# unknown commands, DATA. MAIL stays: its macros carry the login.
SKIP = 0x01 | 0x02 | 0x08 | 0x10 | 0x100 | 0x200

NOT_YOURS = "550 5.7.1 The From: header names an address this login may not send as"
ONE_FROM = "550 5.7.1 A message needs exactly one From: header"
UNREADABLE = "550 5.7.1 The From: header does not read as plain addresses"
NO_LOGIN = "550 5.7.1 Log in to send"
TRY_LATER = "451 4.3.0 The sender check is not available; try again later"


class ProtocolError(Exception):
    pass


def owns(database: Database, login: str, address: str) -> bool:
    """Whether the login may send as the address (with or without a +tag, any case)."""
    address = address.strip().lower()
    bare, tag = split_tag(address)
    candidates = [address] if not tag else [address, bare]
    marker = "?" if database.vendor == "sqlite" else "%s"
    connection = connect(database)
    try:
        cursor = connection.cursor()
        for candidate in candidates:
            local, at, domain = candidate.rpartition("@")
            if not (local and at and domain):
                continue
            cursor.execute(OWNS.replace("?", marker), [local, domain, login.lower()])
            if cursor.fetchall():
                return True
        return False
    finally:
        connection.close()


def from_addresses(value: bytes) -> list[str] | None:
    """The addresses of a From: header's value, None when it does not parse cleanly (a
    defect, an empty group, an address without a domain, a control byte)."""
    raw = value.replace(b"\r", b"").replace(b"\n", b"")
    if any(byte < 0x20 and byte != 0x09 or byte == 0x7F for byte in raw):
        return None  # a NUL or another control byte: what a reader shows is anyone's guess
    try:
        header = message_from_bytes(b"From: " + raw + b"\r\n\r\n", policy=SMTP)["From"]
        addresses = list(header.addresses) if header is not None else []
        defects = list(header.defects) if header is not None else ["missing"]
    except (HeaderParseError, ValueError, IndexError, TypeError):
        return None
    if defects or not addresses or any(len(group.addresses) != 1 for group in header.groups):
        return None
    found = [address.addr_spec for address in addresses]
    if any(not address.username or not address.domain for address in addresses):
        return None
    return found


def verdict(database: Database, login: str, from_values: list[bytes]) -> str | None:
    """None to let the message through, else the SMTP reply that refuses it."""
    if not login:
        return NO_LOGIN
    if len(from_values) != 1:
        return ONE_FROM
    addresses = from_addresses(from_values[0])
    if addresses is None:
        return UNREADABLE
    if not all(address.isprintable() and address.isascii() for address in addresses):
        # The panel's addresses are ASCII (IDN domains as A-labels): this one is nobody's.
        return NOT_YOURS
    try:
        if all(owns(database, login, address) for address in addresses):
            return None
    except (sqlite3.Error, psycopg.Error, OSError):
        return TRY_LATER
    return NOT_YOURS


def _packet(command: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data) + 1) + command + data


def _reply(text: str) -> bytes:
    return _packet(b"y", text.encode("ascii") + b"\0")


def _macros(data: bytes) -> dict[bytes, bytes]:
    parts = data[1:].split(b"\0")
    return dict(zip(parts[0::2], parts[1::2], strict=False))


class _Handler(socketserver.StreamRequestHandler):
    def setup(self) -> None:
        self.request.settimeout(IDLE_TIMEOUT)
        super().setup()

    def read_packet(self) -> tuple[bytes, bytes] | None:
        head = self.rfile.read(4)
        if len(head) < 4:
            return None
        (length,) = struct.unpack(">I", head)
        if not 0 < length <= MAX_PACKET:
            raise ProtocolError(f"packet of {length} bytes")
        body = self.rfile.read(length)
        if len(body) != length:
            return None
        return body[:1], body[1:]

    def handle(self) -> None:
        database: Database = self.server.database  # type: ignore[attr-defined]
        login, froms = "", []
        try:
            while (packet := self.read_packet()) is not None:
                command, data = packet
                answer: bytes | None = _packet(b"c")  # continue
                if command == b"O":  # option negotiation
                    offered = struct.unpack(">III", data[:12])[2]
                    answer = _packet(b"O", struct.pack(">III", VERSION, 0, offered & SKIP))
                elif command == b"D":  # macros, sent before the command they belong to
                    if data[:1] == b"M":  # the login comes with MAIL FROM
                        login = _macros(data).get(b"{auth_authen}", b"").decode("utf-8", "replace")
                    answer = None
                elif command == b"M":  # a new message
                    froms = []
                elif command == b"L":  # a header: name\0value\0
                    name, _, value = data.partition(b"\0")
                    if name.strip().lower() == b"from":
                        froms.append(value.rstrip(b"\0"))
                elif command == b"N":  # end of headers: decide
                    refusal = verdict(database, login, froms)
                    answer = _reply(refusal) if refusal else _packet(b"a")  # accept
                elif command in (b"A", b"K"):  # abort this message / a new SMTP session
                    froms, answer = [], None
                    login = login if command == b"A" else ""
                elif command == b"Q":
                    return
                if answer is not None:
                    self.wfile.write(answer)
                    self.wfile.flush()
        except (OSError, ProtocolError, struct.error):
            return


class SenderCheckServer(BackgroundServer, socketserver.ThreadingTCPServer):
    """The From: check, one thread per Postfix connection (smtpd keeps one per session)."""

    daemon_threads = True
    thread_name = "sender-check"
    allow_reuse_address = True

    def __init__(self, database: Database, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), _Handler)
        self.database = database
