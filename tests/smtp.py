"""A real SMTP server for the tests (aiosmtpd on a loopback port), and the mail it received.

with SmtpServer() as server:             # plain SMTP on 127.0.0.1
with SmtpServer(tls=True, login=("notices", "pw")) as server:   # STARTTLS and AUTH
server.url                               # what ADMINPANEL_SMTP_URL would say
server.mails                             # every message accepted so far
server.answer = "451 4.3.0 Try again later"   # refuse what comes next, until reset to None
"""

from __future__ import annotations

import email
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from testbed.postgres import free_port
from tests.certificates import self_signed


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    over_tls: bool
    login: str | None

    @property
    def to(self) -> str:
        return self.message["To"]

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    @property
    def text(self) -> str:
        return self.message.get_content()


class SmtpServer:
    def __init__(self, *, tls: bool = False, login: tuple[str, str] | None = None):
        self.mails: list[Mail] = []
        self.answer: str | None = None  # e.g. "451 …" or "550 …": refuse instead of accepting
        self.login = login
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="adminpanel-smtp-"))
        self.certificate: Path | None = None
        self._lock = threading.Lock()
        options: dict = {}
        if tls:
            self.certificate, key = self_signed(self.directory)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificate, key)
            options["tls_context"] = context
        if login:
            options.update(authenticator=self._authenticate, auth_require_tls=tls)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    @property
    def host(self) -> str:
        return "localhost" if self.certificate else "127.0.0.1"

    @property
    def url(self) -> str:
        credentials = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        return f"smtp://{credentials}{self.host}:{self.port}"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            self.login is not None
            and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            )
            == self.login
        )
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.answer is not None:
            return self.answer
        message = email.message_from_bytes(envelope.original_content, policy=default)
        login = self.login[0] if self.login and session.authenticated else None
        with self._lock:
            self.mails.append(
                Mail(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    message,
                    over_tls=session.ssl is not None,
                    login=login,
                )
            )
        return "250 Message accepted"

    def received(self) -> list[Mail]:
        with self._lock:
            return list(self.mails)

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.received() if address in m.rcpt_tos]

    def wait_for(self, count: int, *, to: str | None = None, timeout: float = 60) -> list[Mail]:
        """The mails (to one address, if named) once at least `count` have arrived: for
        senders in other processes. Returns what arrived by the deadline."""
        deadline = time.monotonic() + timeout
        mails = self.received() if to is None else self.to(to)
        while len(mails) < count and time.monotonic() < deadline:
            time.sleep(0.1)
            mails = self.received() if to is None else self.to(to)
        return mails

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
