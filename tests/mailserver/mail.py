"""Mail as a client sends and reads it: smtplib to the private Postfix, imaplib to Dovecot."""

import imaplib
import smtplib
import socket
import ssl
import subprocess
import time
import uuid
from email.message import EmailMessage

from adminpanel.mailserver.instance import PrivateMailServer, program
from adminpanel.mailserver.models import EndSessionsRequest, SessionsEnded

SENDER = "sender@outside.test"
DELIVERY_WAIT = 60  # seconds a delivered message may take to show (a busy CI machine)


def message(to: str, subject: str, body: str = "Hello.\n", size: int = 0) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = SENDER
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(body + "x" * size)
    return mail


def unique_subject(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:12]}"


def send(server: PrivateMailServer, to: str, subject: str, *, size: int = 0) -> None:
    """Send one message; raises smtplib's exception when Postfix refuses it."""
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        smtp.send_message(message(to, subject, size=size), from_addr=SENDER, to_addrs=[to])


def rcpt(server: PrivateMailServer, address: str) -> tuple[int, str]:
    """Postfix's answer to RCPT TO:<address> (nothing is sent), the address sent as UTF-8
    bytes whatever it holds."""
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail(SENDER)
        smtp.send(b"RCPT TO:<" + address.encode("utf-8", "surrogateescape") + b">\r\n")
        code, reply = smtp.getreply()
        smtp.rset()
    return code, reply.decode(errors="replace")


def after_sessions_ended(address: str, host: str) -> None:
    """Wait until the mail host named `host` has ended the sessions the panel asked it to end
    for this address (a deletion, a rename, a new password). The mail host does so about once
    a second by the address, so a login made in between would be ended too, as a real client
    is: it reconnects. A test that reads a mailbox right after such a change logs in after it."""
    if "\0" in address or not address.encode("utf-8", "replace").decode() == address:
        return  # no mailbox's address (NUL or invalid UTF-8: the database cannot even hold it)
    carried_out = SessionsEnded.objects.filter(host=host).values("request_id")
    pending = EndSessionsRequest.objects.filter(address=address.lower()).exclude(pk__in=carried_out)
    assert wait_until(lambda: not pending.exists()), f"the sessions of {address} never ended"


class ImapFrom(imaplib.IMAP4):
    """An IMAP client whose connection comes from another loopback address (127.0.0.0/8):
    Dovecot sees it as another client IP."""

    def __init__(self, port: int, source: str):
        self.source = source
        super().__init__("127.0.0.1", port, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection(
            (self.host, self.port), timeout, source_address=(self.source, 0)
        )


def can_log_in(server: PrivateMailServer, address: str, password: str, source: str = "") -> bool:
    """Whether IMAP accepts the login (AUTHENTICATE PLAIN, so any bytes can be tried), from
    127.0.0.1 or the loopback address `source`."""
    after_sessions_ended(address, server.mail_host_name)
    imap = ImapFrom(server.imap_port, source or "127.0.0.1")
    # surrogateescape: "\udcff" is the byte 0xff, so invalid UTF-8 can be tried too.
    plain = b"\0".join(
        [
            b"",
            address.encode("utf-8", "surrogateescape"),
            password.encode("utf-8", "surrogateescape"),
        ]
    )
    try:
        imap.authenticate("PLAIN", lambda _: plain)
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            imap.logout()
        except imaplib.IMAP4.abort:
            pass
    return True


def subjects(server: PrivateMailServer, address: str, password: str) -> list[str]:
    """The subjects in the mailbox's INBOX, read over IMAP."""
    after_sessions_ended(address, server.mail_host_name)
    imap = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=30)
    try:
        imap.login(address, password)
        imap.select("INBOX", readonly=True)
        return inbox_subjects(imap)
    finally:
        imap.logout()


def inbox_subjects(imap: imaplib.IMAP4) -> list[str]:
    """The subjects in the session's selected INBOX."""
    _, data = imap.search(None, "ALL")
    numbers = data[0].split()
    if not numbers:
        return []
    _, fetched = imap.fetch(b",".join(numbers), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    return [
        part[1].decode().split(":", 1)[1].strip() for part in fetched if isinstance(part, tuple)
    ]


def wait_for(server: PrivateMailServer, address: str, password: str, subject: str) -> list[str]:
    """Wait until a message with this subject is in the INBOX (delivery is queued, so it
    takes a moment); returns the INBOX's subjects."""
    deadline = time.monotonic() + DELIVERY_WAIT
    while True:
        found = subjects(server, address, password)
        if subject in found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def eventually(read):
    """The first value of read() that is not None, waiting as for a delivery."""
    deadline = time.monotonic() + DELIVERY_WAIT
    while True:
        value = read()
        if value is not None or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def wait_until(check) -> bool:
    """Whether check() came true, waiting as for a delivery."""
    deadline = time.monotonic() + DELIVERY_WAIT
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def tls_context(server: PrivateMailServer) -> ssl.SSLContext:
    """A client's TLS that trusts the trial's self-signed certificate (and checks that it
    names 127.0.0.1), as a mail app told to accept it."""
    return ssl.create_default_context(cafile=str(server.dir / "tls" / "cert.pem"))


def submission(server: PrivateMailServer) -> smtplib.SMTP:
    """A client on the submission port, after EHLO and STARTTLS, not yet logged in."""
    smtp = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=30)
    smtp.ehlo("client.outside.test")
    smtp.starttls(context=tls_context(server))
    smtp.ehlo("client.outside.test")
    return smtp


def submit(
    server: PrivateMailServer,
    login: str,
    password: str,
    *,
    to: str,
    subject: str,
    mail_from: str | None = None,
    from_header: str | None = None,
) -> None:
    """Log in on the submission port (STARTTLS) and send one message; raises smtplib's
    exception when Postfix refuses it. The envelope sender and From: are the login's address
    unless given."""
    mail = message(to, subject)
    mail.replace_header("From", from_header or mail_from or login)
    with submission(server) as smtp:
        smtp.login(login, password)
        smtp.send_message(mail, from_addr=mail_from or login, to_addrs=[to])


def refusal(send) -> tuple[int, str]:
    """The code and text with which the submission refused what send() tried."""
    try:
        send()
    except smtplib.SMTPRecipientsRefused as error:
        ((code, text),) = error.recipients.values()
        return code, text.decode(errors="replace")
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        return error.smtp_code, error.smtp_error.decode(errors="replace")
    raise AssertionError("the submission accepted it")


def assert_envelope_refused(
    server: PrivateMailServer, login: str, password: str, *, to: str, mail_from: str
) -> None:
    """The submission refuses the envelope sender `mail_from` as one the login does not own
    (a 5xx "not owned", at MAIL FROM or RCPT TO)."""
    code, text = refusal(
        lambda: submit(
            server, login, password, to=to, subject="Forged envelope", mail_from=mail_from
        )
    )
    assert 500 <= code < 600 and "not owned" in text, (code, text)


def assert_from_refused(
    server: PrivateMailServer,
    login: str,
    password: str,
    *,
    to: str,
    from_header: str,
    subject: str = "Forged From",
) -> None:
    """The submission refuses a From: the login does not own at the end of DATA (550 5.7.1)."""
    code, text = refusal(
        lambda: submit(server, login, password, to=to, subject=subject, from_header=from_header)
    )
    assert (code, text.split(" ", 1)[0]) == (550, "5.7.1"), text


def dovecot_hash(scheme: str, password: str) -> str:
    """The hash as an old mail service stored it: `doveadm pw`'s own output."""
    done = subprocess.run(
        [program("doveadm"), "pw", "-s", scheme, "-p", password],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()
