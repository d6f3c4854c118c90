"""Debian 13's Dovecot 2.4 runs the settings `mailserver-config` writes for it (issue 18 item 6,
SPEC §15): Debian 13's own packages, in a trixie root made once with debootstrap and cached
(testbed/trixie.py), against the tests' database (SQLite, then PostgreSQL). Mail delivered over
LMTP is read over IMAP with an app password; the mailbox password opens IMAP and SMTP AUTH (the
auth socket Postfix asks) only where SPEC §14 allows it; the quota, the storage written back,
Sieve's forwarding and the auth policy server's report all work through 2.4's syntax."""

import argparse
import imaplib
import smtplib

import pytest
from django.db import connection

from adminpanel.cli import main
from adminpanel.mail import app_passwords
from adminpanel.mailserver.commands import mailserver_config
from adminpanel.mailserver.config import Database
from adminpanel.mailserver.instance import installed_dovecot_version
from adminpanel.mailserver.models import (
    EndSessionsRequest,
    MailboxUsage,
    MailLogin,
    SessionsEnded,
)
from testbed.trixie import dovecot_version, ensure_root
from tests.mailserver.dovecot24 import ChrootedDovecot, quota_status, sasl_login
from tests.mailserver.imap_processes import assert_served_in_turn_apart, two_inboxes
from tests.mailserver.mail import (
    SENDER,
    can_log_in,
    message,
    subjects,
    tls_context,
    unique_subject,
    wait_until,
)
from tests.mailserver.mail_data import PASSWORD, add_mailbox_row
from tests.mailserver.sessions import disconnected, open_sessions
from tests.owners import owner_with_2fa

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def dovecot24(django_db_setup, django_db_blocker, outside):
    root = ensure_root()  # the first run on a machine builds it: about a minute
    assert dovecot_version(root).startswith("2.4.")
    with django_db_blocker.unblock():
        database = Database.of(connection.settings_dict)
    with ChrootedDovecot(root, database, outgoing_port=outside.port) as dovecot:
        yield dovecot


def deliver(
    dovecot: ChrootedDovecot, to: str, subject: str, *, size: int = 0, sender: str = SENDER
) -> None:
    """One message over LMTP, as Postfix hands it over; raises when Dovecot refuses it."""
    mail = message(to, subject, size=size)
    mail.replace_header("From", sender)
    with smtplib.LMTP(dovecot.lmtp_socket, timeout=30) as lmtp:
        lmtp.send_message(mail, from_addr=sender, to_addrs=[to])


def test_mail_delivered_over_lmtp_is_read_over_imap_with_an_app_password(
    dovecot24, admin_api, domain
):
    address = f"ann@{domain}"
    box = add_mailbox_row(admin_api, address)
    created = app_passwords.create_app_password(box, name="Phone")
    subject = unique_subject("Delivered by Dovecot 2.4")

    deliver(dovecot24, address, subject)

    groups = created.secret.split()
    for typed in ["".join(groups), "-".join(groups), " ".join(groups)]:
        assert subjects(dovecot24, address, typed) == [subject], typed
    # quota_clone wrote the storage back through the usage dict.
    assert wait_until(lambda: MailboxUsage.objects.filter(address=address, bytes__gt=0).exists())
    # The auth policy server heard of the login, with the credential that opened it.
    credential = f"app:{created.app_password.pk}"
    assert wait_until(
        lambda: MailLogin.objects.filter(
            address=address, credential=credential, protocol="imap", success=True
        ).exists()
    )


def test_imap_offers_starttls_with_the_certificate_given(dovecot24, admin_api, domain):
    address = f"tls@{domain}"
    box = add_mailbox_row(admin_api, address)
    secret = app_passwords.create_app_password(box, name="Phone").secret
    imap = imaplib.IMAP4("127.0.0.1", dovecot24.imap_port, timeout=30)
    try:
        imap.starttls(tls_context(dovecot24))  # verifies the certificate and its name
        assert imap.login(address, secret)[0] == "OK"
    finally:
        imap.logout()


def test_the_mailbox_password_opens_imap_and_smtp_only_where_the_domain_allows_it(
    dovecot24, admin_api, domain
):
    address = f"bob@{domain}"
    box = add_mailbox_row(admin_api, address)
    secret = app_passwords.create_app_password(box, name="Laptop").secret
    assert can_log_in(dovecot24, address, PASSWORD)
    assert sasl_login(dovecot24, address, PASSWORD) == "OK"
    assert not can_log_in(dovecot24, address, "Not-The-Password-1")
    assert sasl_login(dovecot24, address, "Not-The-Password-1") == "FAIL"

    answer = admin_api.patch(
        f"/domains/{box.domain_id}", {"mail_apps_may_use_mailbox_password": False}
    )
    assert answer.status == 200, answer.body

    assert not can_log_in(dovecot24, address, PASSWORD)
    assert sasl_login(dovecot24, address, PASSWORD) == "FAIL"
    assert can_log_in(dovecot24, address, secret)
    assert sasl_login(dovecot24, address, secret) == "OK"


def test_after_the_owner_turns_2fa_on_only_app_passwords_open_imap_and_smtp(
    dovecot24, admin_api, domain, clock
):
    address = f"owner@{domain}"
    box = add_mailbox_row(admin_api, address)
    secret = app_passwords.create_app_password(box, name="Phone").secret
    assert can_log_in(dovecot24, address, PASSWORD)

    owner_with_2fa(box, clock)

    assert not can_log_in(dovecot24, address, PASSWORD)
    assert sasl_login(dovecot24, address, PASSWORD) == "FAIL"
    assert can_log_in(dovecot24, address, secret)
    assert sasl_login(dovecot24, address, secret) == "OK"


def test_with_sign_in_not_allowed_no_password_opens_it_and_mail_still_arrives(
    dovecot24, admin_api, domain
):
    address = f"leaver@{domain}"
    box = add_mailbox_row(admin_api, address)
    secret = app_passwords.create_app_password(box, name="Phone").secret
    assert admin_api.patch(f"/users/{box.pk}", {"sign_in_allowed": False}).status == 200

    assert not can_log_in(dovecot24, address, secret)
    assert not can_log_in(dovecot24, address, PASSWORD)
    deliver(dovecot24, address, unique_subject("Still delivered"))


def test_a_message_over_the_quota_is_refused_at_delivery(dovecot24, admin_api, domain):
    address = f"small@{domain}"
    add_mailbox_row(admin_api, address, quota_mb=1)
    deliver(dovecot24, address, unique_subject("Fits"), size=100_000)
    # 1 MB and its 10 % grace: 1.5 MB does not fit.
    with pytest.raises(smtplib.SMTPDataError) as refused:
        deliver(dovecot24, address, unique_subject("Too big"), size=1_500_000)
    assert refused.value.smtp_code == 552, refused.value
    # Postfix asks the same at RCPT TO (quota-status), before accepting the message.
    assert quota_status(dovecot24, address, 100) == "DUNNO"
    assert quota_status(dovecot24, address, 1_500_000) == "552 5.2.2 Mailbox is full"


def test_forwarding_is_carried_out_by_sieve(dovecot24, outside, admin_api, domain):
    address = f"anna@{domain}"
    box = add_mailbox_row(admin_api, address)
    forward = {"destinations": ["successor@outside.test"], "keep_copy": True}
    assert admin_api.put(f"/users/{box.pk}/forwarding", forward).status == 200
    subject = unique_subject("Forwarded by Dovecot 2.4")

    deliver(dovecot24, address, subject)

    assert wait_until(
        lambda: [mail for mail in outside.to("successor@outside.test") if mail.subject == subject]
    )
    assert subjects(dovecot24, address, PASSWORD) == [subject]


def test_an_automatic_reply_reaches_each_sender_once(dovecot24, outside, admin_api, domain):
    address = f"away@{domain}"
    box = add_mailbox_row(admin_api, address)
    reply = {"enabled": True, "subject": "Away", "text": "I have left the company."}
    assert admin_api.put(f"/users/{box.pk}/automatic-reply", reply).status == 200
    sender, other = (f"{who}-of-{domain}@outside.test" for who in ("colleague", "other"))

    for who, label in [(sender, "First"), (sender, "Second"), (other, "Someone else")]:
        deliver(dovecot24, address, unique_subject(label), sender=who)
    # The replies leave in order: once the other sender has one, the first has all of its.
    assert wait_until(lambda: outside.to(other))
    assert [answer.subject for answer in outside.to(sender)] == ["Away"]


def test_a_new_password_ends_the_open_sessions_on_every_mail_host(
    dovecot24, mailserver, admin_api, domain
):
    """Two mail hosts on one database (the session's Dovecot 2.3 and this Dovecot 2.4), each
    holding a session of the mailbox: each ends its own, and records it under its own name."""
    address = f"both@{domain}"
    box = add_mailbox_row(admin_api, address)
    hosts = (mailserver, dovecot24)
    with open_sessions([(host, address) for host in hosts], PASSWORD) as sessions:
        answer = admin_api.patch(f"/users/{box.pk}", {"password": "Mailbox-Linen-Meadow-64"})
        assert answer.status == 200, answer.body
        for host, session in zip(hosts, sessions, strict=True):
            assert wait_until(lambda session=session: disconnected(session)), host
    (request,) = EndSessionsRequest.objects.filter(address=address)
    expected = {mailserver.mail_host_name, dovecot24.mail_host_name}

    def recorded() -> set[str]:
        ended = SessionsEnded.objects.filter(request_id=request.pk)
        return set(ended.values_list("host", flat=True))

    # A host records a request once it has kicked the sessions: the client may see its
    # disconnection a moment before the record is committed (as test_open_sessions waits).
    assert wait_until(lambda: recorded() == expected), recorded()


def test_mailserver_config_writes_for_the_version_asked_else_the_one_installed(
    db, tmp_path, capsys
):
    asked = argparse.Namespace(out=str(tmp_path / "asked"), role=None, dovecot_version="2.4")
    assert mailserver_config(asked) == 0
    assert "Dovecot 2.4 settings (--dovecot-version)." in capsys.readouterr().out
    conf = (tmp_path / "asked" / "dovecot" / "adminpanel.conf").read_text()
    assert "passdb adminpanel_app_passwords {" in conf

    installed = installed_dovecot_version()  # this machine's (Debian 12: 2.3)
    assert installed in ("2.3", "2.4")
    assert mailserver_config(argparse.Namespace(out=str(tmp_path / "here"), role=None)) == 0
    assert f"Dovecot {installed} settings (the Dovecot installed here" in capsys.readouterr().out
    conf = (tmp_path / "here" / "dovecot" / "adminpanel.conf").read_text()
    assert conf.splitlines()[0].endswith(f"the panel's mailboxes for Dovecot {installed}.")


def test_a_dovecot_version_it_cannot_write_is_refused_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["mailserver-config", "--out", str(tmp_path), "--dovecot-version", "2.5"])
    assert refused.value.code == 2
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--dovecot-version: invalid choice: '2.5' (choose from '2.3', '2.4')" in said
    assert not any(tmp_path.iterdir())


def test_an_imap_process_serves_mailboxes_in_turn_each_seeing_only_its_own_mail(
    dovecot24, admin_api, domain
):
    inboxes = two_inboxes(admin_api, domain, lambda to, subject: deliver(dovecot24, to, subject))
    assert_served_in_turn_apart(dovecot24, inboxes)  # restart_request_count
