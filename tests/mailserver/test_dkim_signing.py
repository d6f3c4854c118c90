"""DKIM (SPEC §15): the real OpenDKIM, fed the panel's keys, signs the mail a logged-in client
sends, and the signature verifies with dkimpy against the key the panel's DNS records give.
Mail that arrives from outside, or from a client that did not log in (even on loopback, where
OpenDKIM's default InternalHosts would sign it), goes unsigned.

Postfix runs as the README's Debian path sets it up (Debian's stock main.cf plus the generated
settings). The client speaks from outside through XCLIENT; with LOGIN= it is a client that has
logged in, exactly as Postfix tells its milters after SMTP AUTH ({auth_type}, {auth_authen}).
"""

import email
import smtplib
from email.message import EmailMessage

import pytest

from adminpanel.mail import app_passwords
from adminpanel.mail.models import Mailbox
from adminpanel.mailserver.instance import PrivateMailServer
from tests.mailserver.debian import debian_stock_main_cf
from tests.mailserver.mail import submit, unique_subject, wait_until
from tests.mailserver.servers import private_mail_server
from tests.mailserver.signatures import (
    dkim_record,
    raw_message,
    signature,
    signed_for,
    verifies_with,
)

OUTSIDE_CLIENT = "203.0.113.9"  # TEST-NET-3: not in any mynetworks
PASSWORD = "Mailbox-Cobalt-Harbor-27"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def mail_host(django_db_setup, django_db_blocker):
    with private_mail_server(
        django_db_blocker,
        "adminpanel-dkim-test-",
        stock_main_cf=debian_stock_main_cf(),
    ) as server:
        yield server


@pytest.fixture
def mailboxes(admin_api, domain) -> tuple[str, str, int]:
    """(sender, recipient, domain id): two mailboxes of a fresh domain."""
    for name in ["ann", "bob"]:
        created = admin_api.post("/users", {"address": f"{name}@{domain}", "password": PASSWORD})
        assert created.status == 201, created.body
    found = admin_api.get("/domains", QUERY_STRING=f"search={domain}").body["items"][0]
    return f"ann@{domain}", f"bob@{domain}", found["id"]


def send(server: PrivateMailServer, sender: str, to: str, subject: str, *, xclient: str) -> None:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content("Signed, we hope.\n")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        if xclient:
            code, reply = smtp.docmd("XCLIENT", xclient)
            assert code == 220, reply
            smtp.ehlo("client.outside.test")
        smtp.send_message(mail, from_addr=sender, to_addrs=[to])


def current_selector(admin_api, domain_id: int) -> str:
    records = admin_api.get(f"/domains/{domain_id}/dns").body
    return next(r["name"].split(".")[0] for r in records if "._domainkey." in r["name"])


def test_mail_a_logged_in_client_sends_is_signed_and_verifies_against_the_dns_record(
    mail_host, admin_api, mailboxes
):
    sender, recipient, domain_id = mailboxes
    domain = sender.split("@")[1]
    selector = current_selector(admin_api, domain_id)
    assert wait_until(lambda: signed_for(mail_host, domain, selector))
    subject = unique_subject("signed")
    send(
        mail_host,
        sender,
        recipient,
        subject,
        xclient=f"ADDR={OUTSIDE_CLIENT} NAME=client.outside.test LOGIN={sender}",
    )
    message = raw_message(mail_host, recipient, subject)
    tags = signature(message)
    assert (tags["d"], tags["s"], tags["a"]) == (domain, selector, "rsa-sha256")
    record = dkim_record(admin_api, domain_id, selector)
    assert verifies_with(message, record)
    # The same message changed on the way no longer verifies: the check is a real one.
    assert not verifies_with(message.replace(b"Signed, we hope.", b"Signed, we hoped."), record)


@pytest.mark.parametrize(
    "xclient",
    [
        pytest.param(f"ADDR={OUTSIDE_CLIENT} NAME=mx.outside.test", id="from-outside"),
        pytest.param("", id="loopback-without-login"),
    ],
)
def test_mail_from_a_client_that_did_not_log_in_is_not_signed(
    mail_host, admin_api, mailboxes, xclient
):
    sender, recipient, domain_id = mailboxes
    domain = sender.split("@")[1]
    assert wait_until(lambda: signed_for(mail_host, domain, current_selector(admin_api, domain_id)))
    subject = unique_subject("unsigned")
    # A forged From: of our own domain, as spam from outside would carry.
    send(mail_host, sender, recipient, subject, xclient=xclient)
    message = raw_message(mail_host, recipient, subject)
    assert email.message_from_bytes(message)["DKIM-Signature"] is None


def test_after_rotation_mail_is_signed_with_the_new_key_and_the_old_record_stays_until_removed(
    mail_host, admin_api, mailboxes
):
    sender, recipient, domain_id = mailboxes
    domain = sender.split("@")[1]
    old = current_selector(admin_api, domain_id)
    rotated = admin_api.post(f"/domains/{domain_id}/dkim/rotate")
    assert rotated.status == 200, rotated.body
    new = rotated.body["selector"]
    assert new != old and rotated.body["old_selectors"] == [old]
    assert wait_until(lambda: signed_for(mail_host, domain, new))
    subject = unique_subject("rotated")
    send(mail_host, sender, recipient, subject, xclient=f"ADDR={OUTSIDE_CLIENT} LOGIN={sender}")
    message = raw_message(mail_host, recipient, subject)
    assert signature(message)["s"] == new
    assert verifies_with(message, dkim_record(admin_api, domain_id, new))
    assert rotated.body["record"] == dkim_record(admin_api, domain_id, new)
    dkim_record(admin_api, domain_id, old)  # still published
    removed = admin_api.post(f"/domains/{domain_id}/dkim/remove-old-key")
    assert removed.status == 200 and removed.body == {"removed": [old]}
    names = [r["name"] for r in admin_api.get(f"/domains/{domain_id}/dns").body]
    assert f"{new}._domainkey.{domain}" in names
    assert f"{old}._domainkey.{domain}" not in names


def test_an_app_password_sends_through_submission_signed_as_the_dns_records_say(
    mail_host, admin_api, mailboxes
):
    """Issue 18's check: a login with an app password on the submission port (STARTTLS), to
    another of our mailboxes; read over IMAP, the signature verifies against the DNS records."""
    sender, recipient, domain_id = mailboxes
    local, domain = sender.split("@")
    box = Mailbox.objects.select_related("domain").get(local_part=local, domain__name=domain)
    secret = app_passwords.create_app_password(box, name="Laptop").secret
    selector = current_selector(admin_api, domain_id)
    assert wait_until(lambda: signed_for(mail_host, domain, selector))
    subject = unique_subject("Sent with an app password")
    submit(mail_host, sender, secret, to=recipient, subject=subject)
    message = raw_message(mail_host, recipient, subject)
    assert signature(message)["s"] == selector
    assert verifies_with(message, dkim_record(admin_api, domain_id, selector))
