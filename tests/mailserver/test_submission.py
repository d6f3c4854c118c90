"""Sending mail (SPEC §15), from outside as a mail app does: smtplib over STARTTLS on the
submission port (and TLS on submissions), logged in with the mailbox's password through
Dovecot; mail to our mailboxes is read over IMAP, mail to other domains reaches the test SMTP
server the trial relays to. A login sends as its own address and the aliases that deliver to
it, nothing else (envelope and From:), and never before STARTTLS."""

import base64
import imaplib
import smtplib
import socket
import ssl

import pytest

from adminpanel.mail import app_passwords
from adminpanel.mail.models import Mailbox
from adminpanel.mailserver.models import MailLogin
from tests.mailserver.mail import (
    assert_envelope_refused,
    assert_from_refused,
    can_log_in,
    message,
    submission,
    submit,
    tls_context,
    unique_subject,
    wait_for,
    wait_until,
)
from tests.mailserver.mail_data import PASSWORD, add_mailbox

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(admin_api, domain) -> dict[str, str]:
    """alice and bob, mailboxes of one domain; team@ delivers to alice, bobs@ to bob."""
    names = {name: f"{name}@{domain}" for name in ["alice", "bob"]}
    for address in names.values():
        add_mailbox(admin_api, address)
    for alias, target in [("team", "alice"), ("bobs", "bob")]:
        answer = admin_api.post(
            "/aliases", {"address": f"{alias}@{domain}", "destinations": [names[target]]}
        )
        assert answer.status == 201, answer.body
    return {**names, "team": f"team@{domain}", "bobs": f"bobs@{domain}"}


def test_a_login_sends_to_another_of_our_mailboxes(mailserver, people):
    subject = unique_subject("Internal")
    submit(mailserver, people["alice"], PASSWORD, to=people["bob"], subject=subject)
    assert subject in wait_for(mailserver, people["bob"], PASSWORD, subject)


def test_a_login_sends_to_an_outside_address_relayed_onwards(mailserver, outside, people):
    subject = unique_subject("Outward")
    submit(mailserver, people["alice"], PASSWORD, to="carol@elsewhere.test", subject=subject)
    arrived = [
        mail for mail in outside.wait_for(1, to="carol@elsewhere.test") if mail.subject == subject
    ]
    assert wait_until(
        lambda: any(m.subject == subject for m in outside.to("carol@elsewhere.test"))
    ), arrived
    (mail,) = [m for m in outside.to("carol@elsewhere.test") if m.subject == subject]
    assert mail.mail_from == people["alice"]
    assert mail.message["From"] == people["alice"]


def test_submissions_with_tls_from_the_first_byte_sends_too(mailserver, outside, people):
    subject = unique_subject("Wrapped")
    mail = message("dave@elsewhere.test", subject)
    mail.replace_header("From", people["alice"])
    with smtplib.SMTP_SSL(
        "127.0.0.1", mailserver.submissions_port, context=tls_context(mailserver), timeout=30
    ) as smtp:
        smtp.login(people["alice"], PASSWORD)
        smtp.send_message(mail, from_addr=people["alice"], to_addrs=["dave@elsewhere.test"])
    assert wait_until(lambda: any(m.subject == subject for m in outside.to("dave@elsewhere.test")))


@pytest.mark.parametrize(
    ("sender", "who"),
    [
        ("{team}", "an alias that delivers to it"),
        ("ALICE@{domain}", "its own address in upper case"),
        ("alice+news@{domain}", "its own address with a tag"),
        ("Team+x@{domain}", "its alias with a tag, any case"),
    ],
)
def test_a_login_sends_as_its_own_addresses(mailserver, people, sender, who):
    domain = people["alice"].split("@")[1]
    address = sender.format(domain=domain, **people)
    subject = unique_subject("As " + who)
    submit(mailserver, people["alice"], PASSWORD, to=people["bob"], subject=subject,
           mail_from=address, from_header=f"Alice <{address}>")  # fmt: skip
    assert subject in wait_for(mailserver, people["bob"], PASSWORD, subject)


OTHERS = [
    "{bob}",  # another mailbox
    "BOB@{domain}",  # ... in another case
    "bob+alice@{domain}",  # ... with a tag naming the login
    "{bobs}",  # someone else's alias
    "bobs+x@{domain}",
    "alice@elsewhere.test",  # another domain, the login's local part
    "alice@{domain}.evil.test",  # a domain that only starts like ours
    "nobody@{domain}",  # nobody's address in our domain
    "postmaster@{domain}",
]


@pytest.mark.parametrize("sender", OTHERS)
def test_an_envelope_sender_the_login_does_not_own_is_refused(mailserver, people, sender):
    domain = people["alice"].split("@")[1]
    address = sender.format(domain=domain, **people)
    assert_envelope_refused(
        mailserver, people["alice"], PASSWORD, to=people["bob"], mail_from=address
    )


@pytest.mark.parametrize("sender", OTHERS)
def test_a_from_header_the_login_does_not_own_is_refused_at_the_end_of_data(
    mailserver, people, sender
):
    domain = people["alice"].split("@")[1]
    address = sender.format(domain=domain, **people)
    assert_from_refused(
        mailserver, people["alice"], PASSWORD, to=people["bob"], from_header=f"Someone <{address}>"
    )


@pytest.mark.parametrize(
    "header",
    [
        "{alice}, {bob}",  # one of two is someone else's
        '"{alice}" <{bob}>',  # the display name is the login's, the address is not
        "{bob} (as {alice})",
        "<{alice}>{bob}",
        "{alice} <{bob}>",
        "{alice}@elsewhere.test",
        "=?utf-8?q?{alice_encoded}?= <{bob}>",
        "Alice <{alice}",  # no closing bracket
        "undisclosed-recipients:;",
        "",
    ],
)
def test_a_from_header_that_hides_another_address_or_none_is_refused(mailserver, people, header):
    """Sent as raw bytes, as written: a client library would mend some of them."""
    alice_encoded = people["alice"].replace("@", "=40").replace(".", "=2E")
    from_header = header.format(alice_encoded=alice_encoded, **people)
    raw = (
        f"From: {from_header}\r\nTo: {people['bob']}\r\nSubject: Tricky From\r\n\r\nHi.\r\n"
    ).encode()
    with submission(mailserver) as smtp:
        smtp.login(people["alice"], PASSWORD)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail(people["alice"], [people["bob"]], raw)
    assert refused.value.smtp_code == 550, refused.value


@pytest.mark.parametrize(
    "header",
    [b"J\xc3\xb6rg <alice\xff@%s>", b"<\xc3\xa4lice@%s>"],
)
def test_a_from_header_with_bytes_no_address_of_ours_has_is_refused(mailserver, people, header):
    domain = people["alice"].split("@")[1].encode()
    raw = b"From: " + header % domain + b"\r\nSubject: Bytes\r\n\r\nHi.\r\n"
    with submission(mailserver) as smtp:
        smtp.login(people["alice"], PASSWORD)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail(people["alice"], [people["bob"]], raw)
    assert refused.value.smtp_code == 550, refused.value


def test_a_nul_in_from_ends_the_header_there_so_only_the_logins_address_arrives(mailserver, people):
    subject = unique_subject("NUL in From")
    raw = (
        f"From: {people['alice']}".encode()
        + b"\x00bob@elsewhere.test\r\n"
        + f"Subject: {subject}\r\n\r\nHi.\r\n".encode()
    )
    with submission(mailserver) as smtp:
        smtp.login(people["alice"], PASSWORD)
        smtp.sendmail(people["alice"], [people["bob"]], raw)
    assert subject in wait_for(mailserver, people["bob"], PASSWORD, subject)
    imap = imaplib.IMAP4("127.0.0.1", mailserver.imap_port, timeout=30)
    try:
        imap.login(people["bob"], PASSWORD)
        imap.select("INBOX", readonly=True)
        _, found = imap.search(None, "SUBJECT", f'"{subject}"')
        _, fetched = imap.fetch(found[0].split()[-1], "(BODY.PEEK[HEADER.FIELDS (FROM)])")
    finally:
        imap.logout()
    assert fetched[0][1].strip() == f"From: {people['alice']}".encode()


def test_the_from_check_outlives_clients_that_are_not_postfix(mailserver, people):
    """Garbage, a packet longer than any Postfix sends, a connection cut short: the milter
    drops that connection and goes on checking Postfix's."""
    host, port = mailserver.sender_check.server_address[:2]
    for junk in [b"GET / HTTP/1.0\r\n\r\n", b"\xff\xff\xff\xffO", b"\x00\x00\x00\x0dO\x00"]:
        with socket.create_connection((host, port), timeout=10) as conn:
            conn.sendall(junk)
            conn.shutdown(socket.SHUT_WR)
            conn.recv(100)
    forged = message(people["bob"], "Forged after junk")
    forged.replace_header("From", people["bob"])
    with submission(mailserver) as smtp:
        smtp.login(people["alice"], PASSWORD)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.send_message(forged, from_addr=people["alice"], to_addrs=[people["bob"]])
    assert refused.value.smtp_code == 550


def test_the_refusals_leave_the_session_usable_for_a_rightful_message(mailserver, people):
    subject = unique_subject("After refusals")
    with submission(mailserver) as smtp:
        smtp.login(people["alice"], PASSWORD)
        forged = message(people["bob"], "Forged")
        forged.replace_header("From", people["bob"])
        with pytest.raises(smtplib.SMTPDataError):
            smtp.send_message(forged, from_addr=people["alice"], to_addrs=[people["bob"]])
        code, _ = smtp.mail(people["bob"])
        assert code == 250  # delayed: refused at RCPT TO
        assert 500 <= smtp.rcpt(people["bob"])[0] < 600
        smtp.rset()
        rightful = message(people["bob"], subject)
        rightful.replace_header("From", people["team"])
        smtp.send_message(rightful, from_addr=people["alice"], to_addrs=[people["bob"]])
    assert subject in wait_for(mailserver, people["bob"], PASSWORD, subject)


def test_auth_before_starttls_is_refused_and_not_even_offered(mailserver, people):
    with smtplib.SMTP("127.0.0.1", mailserver.submission_port, timeout=30) as smtp:
        smtp.ehlo("client.outside.test")
        assert not smtp.has_extn("auth") and smtp.has_extn("starttls")
        code, _ = smtp.docmd("AUTH", "PLAIN " + plain(people["alice"], PASSWORD))
        assert code == 530
        code, _ = smtp.docmd("MAIL", f"FROM:<{people['alice']}>")
        assert code == 530  # Must issue a STARTTLS command first


def test_not_logged_in_nothing_is_relayed_nor_delivered(mailserver, people):
    with submission(mailserver) as smtp:
        assert smtp.has_extn("auth")
        smtp.mail(people["alice"])
        for recipient in ["carol@elsewhere.test", people["bob"]]:
            code, text = smtp.rcpt(recipient)
            assert 500 <= code < 600, (recipient, code, text)


def test_the_smtp_port_for_other_servers_offers_no_login(mailserver):
    with smtplib.SMTP("127.0.0.1", mailserver.smtp_port, timeout=30) as smtp:
        smtp.ehlo("mx.outside.test")
        assert not smtp.has_extn("auth")


def plain(login: str | bytes, password: str | bytes) -> str:
    """AUTH PLAIN's argument for any bytes."""
    login = login if isinstance(login, bytes) else login.encode()
    password = password if isinstance(password, bytes) else password.encode()
    return base64.b64encode(b"\0" + login + b"\0" + password).decode()


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("{alice}", "wrong-password-123"),
        ("{alice}", PASSWORD + "\0extra"),  # NUL inside the password
        ("{alice}\0{bob}", PASSWORD),  # NUL inside the login
        ("{alice}", "x" * 20_000),  # overlong
        ("a" * 5_000 + "@{domain}", PASSWORD),
        (b"\xff\xfe{alice}", PASSWORD),  # not UTF-8
        ("{alice}", b"\xc3\x28" + PASSWORD.encode()),
    ],
)
def test_bad_credentials_are_refused_and_the_next_login_works(mailserver, people, login, password):
    domain = people["alice"].split("@")[1]
    fields = {**people, "domain": domain}
    if isinstance(login, bytes):
        login = login.replace(b"{alice}", people["alice"].encode())
    else:
        login = login.format(**fields)
    logs = {log: log.stat().st_size for log in mailserver.log_dir.glob("*.log")}
    with submission(mailserver) as smtp:
        try:
            code, text = smtp.docmd("AUTH", "PLAIN " + plain(login, password))
        except smtplib.SMTPServerDisconnected:
            code, text = 500, b"disconnected"
        assert 500 <= code < 600 and code != 503, (code, text)
    with submission(mailserver) as smtp:
        assert smtp.login(people["alice"], PASSWORD)[0] == 235
    for log, size in logs.items():
        with log.open("rb") as stream:
            stream.seek(size)
            said = stream.read().decode(errors="replace").lower()
        assert "panic" not in said and "fatal" not in said, said


def test_a_mailbox_whose_sign_in_is_off_cannot_send(mailserver, admin_api, people):
    found = admin_api.get("/users", QUERY_STRING=f"search={people['bob']}").body["items"][0]
    assert admin_api.patch(f"/users/{found['id']}", {"sign_in_allowed": False}).status == 200
    with submission(mailserver) as smtp, pytest.raises(smtplib.SMTPAuthenticationError):
        smtp.login(people["bob"], PASSWORD)


def test_imap_offers_starttls_and_logs_in_over_it(mailserver, people):
    imap = imaplib.IMAP4("127.0.0.1", mailserver.imap_port, timeout=30)
    try:
        assert "STARTTLS" in imap.capabilities
        imap.starttls(ssl_context=tls_context(mailserver))
        assert imap.login(people["alice"], PASSWORD)[0] == "OK"
    finally:
        imap.logout()


def test_the_trial_certificate_names_the_host_and_is_checked(mailserver):
    context = tls_context(mailserver)
    with socket.create_connection(("127.0.0.1", mailserver.submissions_port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in {"TLSv1.2", "TLSv1.3"}
    strict = ssl.create_default_context()  # the system's CAs only: a self-signed one fails
    with socket.create_connection(("127.0.0.1", mailserver.submissions_port), timeout=30) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            strict.wrap_socket(raw, server_hostname="127.0.0.1")


def test_the_login_still_reads_its_mail_after_sending(mailserver, people):
    assert can_log_in(mailserver, people["alice"], PASSWORD)


def test_an_owners_app_password_sends_where_the_mailbox_password_may_not(
    mailserver, admin_api, people
):
    """SMTP AUTH asks Dovecot's passdbs (SPEC §14): an app password opens submission, the
    mailbox password does not once the domain says so; the sender rules hold for it alike."""
    box = Mailbox.objects.select_related("domain").get(
        local_part="alice", domain__name=people["alice"].split("@")[1]
    )
    secret = app_passwords.create_app_password(box, name="Laptop").secret
    answer = admin_api.patch(
        f"/domains/{box.domain_id}", {"mail_apps_may_use_mailbox_password": False}
    )
    assert answer.status == 200, answer.body
    with submission(mailserver) as smtp, pytest.raises(smtplib.SMTPAuthenticationError):
        smtp.login(people["alice"], PASSWORD)
    subject = unique_subject("With an app password")
    submit(mailserver, people["alice"], secret.replace(" ", "-"), to=people["bob"], subject=subject,
           from_header=people["team"])  # fmt: skip
    assert wait_until(
        lambda: MailLogin.objects.filter(
            address=people["alice"], success=True, protocol="smtp"
        ).exists()
    )
    assert_from_refused(
        mailserver,
        people["alice"],
        secret,
        to=people["bob"],
        from_header=people["bob"],
        subject="Forged with an app password",
    )
    answer = admin_api.patch(
        f"/domains/{box.domain_id}", {"mail_apps_may_use_mailbox_password": True}
    )
    assert answer.status == 200
    # bob reads with his mailbox password, as the domain allows again
    assert subject in wait_for(mailserver, people["bob"], PASSWORD, subject)
