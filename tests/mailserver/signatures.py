"""Checks of DKIM signatures on delivered mail, for the mail server tests: what the mail host's
signer has taken, the whole message as IMAP gives it, and dkimpy's verdict against the record
the panel's DNS records give (and nothing else)."""

import email
import imaplib
import time

import dkim as dkimpy

from adminpanel.mailserver.instance import PrivateMailServer
from tests.mailserver.mail import DELIVERY_WAIT, wait_until

PASSWORD = "Mailbox-Cobalt-Harbor-27"


def signed_for(server: PrivateMailServer, domain: str, selector: str) -> bool:
    """Whether the mail host's signer has taken this key (it syncs about once a second): its
    table names the key, and a sync has ended since, so the one that wrote the table has told
    OpenDKIM to reload. (A message sent between the table's write and that signal went out
    unsigned: OpenDKIM takes its configuration when Postfix connects.)"""
    syncs = server.dkim_syncs
    table = server.dkim_dir / "key.table"
    if not (table.exists() and f"{domain} {domain}:{selector}:" in table.read_text()):
        return False
    return wait_until(lambda: server.dkim_syncs > syncs)


def raw_message(
    server: PrivateMailServer, address: str, subject: str, password: str = PASSWORD
) -> bytes:
    """The whole message with this subject, as IMAP gives it, once it is delivered."""
    deadline = time.monotonic() + DELIVERY_WAIT
    while True:
        imap = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=30)
        try:
            imap.login(address, password)
            imap.select("INBOX", readonly=True)
            _, data = imap.search(None, "SUBJECT", f'"{subject}"')
            numbers = data[0].split()
            if numbers:
                _, fetched = imap.fetch(numbers[-1], "(BODY.PEEK[])")
                return next(part[1] for part in fetched if isinstance(part, tuple))
        finally:
            imap.logout()
        assert time.monotonic() < deadline, f"{subject!r} never reached {address}"
        time.sleep(0.2)


def dkim_record(admin_api, domain_id: int, selector: str, name: str | None = None) -> dict:
    """The DKIM record of `selector` on the domain's DNS records page: the domain's own, or
    the one published under `name` (one of its alias domains)."""
    records = admin_api.get(f"/domains/{domain_id}/dns")
    assert records.status == 200, records.body
    prefix = f"{selector}._domainkey."
    found = [
        r
        for r in records.body
        if r["type"] == "TXT"
        and r["name"].startswith(prefix)
        and (name is None or r["name"] == prefix + name)
    ]
    if name is None:
        found = found[:1]  # the domain's own comes first, its alias domains' after it
    assert len(found) == 1, records.body
    return found[0]


def verifies_with(message: bytes, record: dict) -> bool:
    """dkimpy's verdict, its DNS answered with the record the panel gave (and nothing else)."""

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record["value"].encode() if name.decode().rstrip(".") == record["name"] else b""

    return dkimpy.verify(message, dnsfunc=dns)


def signature(message: bytes) -> dict[str, str]:
    header = email.message_from_bytes(message)["DKIM-Signature"]
    assert header is not None, message[:2000]
    tags = (part.strip().split("=", 1) for part in "".join(header.split()).split(";") if part)
    return {name: value for name, value in tags}
