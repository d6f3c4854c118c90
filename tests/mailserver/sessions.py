"""Open IMAP sessions as a mail app holds them, and whether Dovecot ended them: the setup of
the tests that change a mailbox in the panel and watch its sessions end (test_open_sessions on
Dovecot 2.3, test_dovecot24 on both hosts)."""

import imaplib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class MailHost(Protocol):
    """A private Dovecot: 2.3 (PrivateMailServer) or 2.4 (dovecot24.ChrootedDovecot)."""

    imap_port: int


def open_session(server: MailHost, address: str, password: str) -> imaplib.IMAP4:
    """A session logged in to the mailbox with its INBOX selected, as a mail app keeps it."""
    imap = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=30)
    imap.login(address, password)
    imap.select("INBOX", readonly=True)
    return imap


def disconnected(imap: imaplib.IMAP4) -> bool:
    """Whether the session's next command fails because Dovecot closed it."""
    try:
        imap.noop()
    except (imaplib.IMAP4.abort, OSError):
        return True
    return False


@contextmanager
def open_sessions(
    logins: list[tuple[MailHost, str]], password: str
) -> Iterator[list[imaplib.IMAP4]]:
    """One open session per (server, address), logged out at the end whether or not Dovecot
    already ended it."""
    sessions = [open_session(server, address, password) for server, address in logins]
    try:
        yield sessions
    finally:
        for imap in sessions:
            try:
                imap.logout()
            except (imaplib.IMAP4.abort, OSError):
                pass
