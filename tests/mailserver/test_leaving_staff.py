"""SPEC §16 "Leaving staff" end to end, with the real Postfix and Dovecot (Sieve): a mailbox's
Forwarding sends its mail on to outside addresses (keeping a copy or not), and its Automatic
reply answers each sender once, only between its dates. "Outside" is a test SMTP server that
the private Postfix relays other domains' mail to."""

import imaplib
import smtplib
from datetime import date, timedelta

import pytest

from adminpanel.mailserver.instance import MailServerError, postfix_relayhost
from tests.mailserver.mail import SENDER, message, subjects, unique_subject, wait_for, wait_until
from tests.mailserver.mail_data import PASSWORD, add_mailbox

FORWARDED_TO = "successor@outside.test"

pytestmark = pytest.mark.django_db(transaction=True)


def send_from(mailserver, sender: str, to: str, subject: str) -> None:
    with smtplib.SMTP("127.0.0.1", mailserver.smtp_port, timeout=30) as smtp:
        mail = message(to, subject)
        mail.replace_header("From", sender)
        smtp.send_message(mail, from_addr=sender, to_addrs=[to])


def folders(mailserver, address: str) -> list[str]:
    imap = imaplib.IMAP4("127.0.0.1", mailserver.imap_port, timeout=30)
    try:
        imap.login(address, PASSWORD)
        _, listed = imap.list()
    finally:
        imap.logout()
    return [line.decode().rsplit(" ", 1)[-1].strip('"') for line in listed]


def arrived_outside(outside, to: str, subject: str) -> list:
    return [mail for mail in outside.to(to) if mail.subject == subject]


def test_forwarded_mail_arrives_outside_and_a_copy_stays_in_the_mailbox(
    mailserver, outside, admin_api, domain
):
    anna = f"anna@{domain}"
    user = add_mailbox(admin_api, anna)["id"]
    setting = {"destinations": [FORWARDED_TO], "keep_copy": True}
    assert admin_api.put(f"/users/{user}/forwarding", setting).status == 200

    subject = unique_subject("Forwarded with a copy")
    send_from(mailserver, SENDER, anna, subject)

    assert wait_until(lambda: arrived_outside(outside, FORWARDED_TO, subject))
    assert subject in wait_for(mailserver, anna, PASSWORD, subject)


def test_without_a_copy_forwarded_mail_leaves_the_mailbox_empty(
    mailserver, outside, admin_api, domain
):
    anna = f"anna@{domain}"
    user = add_mailbox(admin_api, anna)["id"]
    setting = {"destinations": [FORWARDED_TO, "archive@outside.test"], "keep_copy": False}
    assert admin_api.put(f"/users/{user}/forwarding", setting).status == 200

    subject = unique_subject("Forwarded, no copy")
    send_from(mailserver, SENDER, anna, subject)

    assert wait_until(lambda: arrived_outside(outside, FORWARDED_TO, subject))
    assert wait_until(lambda: arrived_outside(outside, "archive@outside.test", subject))
    # Delivered after the forwarding (one Sieve run): nothing of it is in the INBOX.
    marker = unique_subject("Delivered normally after forwarding stops")
    assert admin_api.put(f"/users/{user}/forwarding", {"destinations": []}).status == 200
    send_from(mailserver, SENDER, anna, marker)
    assert wait_for(mailserver, anna, PASSWORD, marker) == [marker]


def test_an_automatic_reply_reaches_each_sender_once(mailserver, outside, admin_api, domain):
    anna = f"anna@{domain}"
    user = add_mailbox(admin_api, anna)["id"]
    reply = {
        "enabled": True,
        "subject": f'Away from {domain}: "left"',
        "text": "I have left the company.\n.\nPlease write to my successor.",
    }
    assert admin_api.put(f"/users/{user}/automatic-reply", reply).status == 200
    sender = f"colleague-of-{domain}@outside.test"

    first = unique_subject("First question")
    send_from(mailserver, sender, anna, first)
    assert first in wait_for(mailserver, anna, PASSWORD, first)
    assert wait_until(lambda: outside.to(sender))
    (answer,) = outside.to(sender)
    assert answer.subject == reply["subject"]
    assert answer.text.replace("\r\n", "\n").startswith(reply["text"])

    second = unique_subject("Second question")
    send_from(mailserver, sender, anna, second)
    assert second in wait_for(mailserver, anna, PASSWORD, second)
    # A message from someone else still gets its reply, and the first sender still has one.
    other = f"other-of-{domain}@outside.test"
    send_from(mailserver, other, anna, unique_subject("Someone else"))
    assert wait_until(lambda: outside.to(other))
    assert len(outside.to(sender)) == 1
    # What the mail server remembers of the replies is no folder of the mailbox.
    assert folders(mailserver, anna) == ["INBOX"]


@pytest.mark.parametrize(
    "days",
    [
        {"starts_on": (date.today() + timedelta(days=2)).isoformat()},
        {"ends_on": (date.today() - timedelta(days=2)).isoformat()},
    ],
    ids=["before the first day", "after the last day"],
)
def test_outside_its_dates_the_automatic_reply_stays_silent(
    mailserver, outside, admin_api, domain, days
):
    anna = f"anna@{domain}"
    user = add_mailbox(admin_api, anna)["id"]
    reply = {"enabled": True, "subject": "Away", "text": "Back soon.", **days}
    assert admin_api.put(f"/users/{user}/automatic-reply", reply).status == 200
    sender = f"writer-to-{domain}@outside.test"
    # Forwarded too, so that something observable leaves after the Sieve script has run.
    forward = {"destinations": [f"watch-{domain}@outside.test"], "keep_copy": True}
    assert admin_api.put(f"/users/{user}/forwarding", forward).status == 200

    subject = unique_subject("Outside the dates")
    send_from(mailserver, sender, anna, subject)

    assert subject in wait_for(mailserver, anna, PASSWORD, subject)
    assert wait_until(lambda: arrived_outside(outside, f"watch-{domain}@outside.test", subject))
    assert outside.to(sender) == []


def test_within_its_dates_the_automatic_reply_answers(mailserver, outside, admin_api, domain):
    anna = f"anna@{domain}"
    user = add_mailbox(admin_api, anna)["id"]
    today = date.today()
    reply = {
        "enabled": True,
        "subject": "Away",
        "text": "Back soon.",
        "starts_on": (today - timedelta(days=1)).isoformat(),
        "ends_on": (today + timedelta(days=1)).isoformat(),
    }
    assert admin_api.put(f"/users/{user}/automatic-reply", reply).status == 200
    sender = f"writer-to-{domain}@outside.test"

    send_from(mailserver, sender, anna, unique_subject("Within the dates"))

    assert wait_until(lambda: outside.to(sender))


def test_a_mailbox_without_settings_is_delivered_as_before(mailserver, outside, admin_api, domain):
    anna = f"anna@{domain}"
    add_mailbox(admin_api, anna)
    subject = unique_subject("Plain delivery")
    send_from(mailserver, SENDER, anna, subject)
    assert wait_for(mailserver, anna, PASSWORD, subject) == [subject]
    assert subjects(mailserver, anna, PASSWORD) == [subject]


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("127.0.0.1:2526", "[127.0.0.1]:2526"),
        ("smtp.example.net:587", "[smtp.example.net]:587"),
        ("[smtp.example.net]:587", "[smtp.example.net]:587"),
        ("[192.0.2.1]:25", "[192.0.2.1]:25"),
        ("[2001:db8::1]:25", "[ipv6:2001:db8::1]:25"),
        ("[2001:DB8:0::1]:0025", "[ipv6:2001:db8::1]:25"),
    ],
)
def test_a_relayhost_is_written_the_way_postfix_needs_it(given, written):
    assert postfix_relayhost(given) == written


@pytest.mark.parametrize(
    "given",
    [
        "smtp.example.net",
        ":25",
        "host:port",
        "host:70000",
        "2001:db8::1:25",  # an IPv6 address needs its brackets: where would the port start?
        "smtp.example.net, evil.example:25",
        "smtp example.net:25",
        "smtp.example.net\nrelayhost=x:25",
        "-smtp.example.net:25",
    ],
)
def test_a_relayhost_without_host_and_port_is_refused(given):
    with pytest.raises(MailServerError):
        postfix_relayhost(given)
