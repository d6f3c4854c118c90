"""Backscatter (issue 21 item 6): what the panel knows cannot be delivered is refused while the
sender is still connected, never accepted with 250 and bounced to a sender who may be forged."""

import smtplib

import pytest

from adminpanel.mailserver.models import MailboxUsage
from tests.mailserver.mail import (
    SENDER,
    message,
    rcpt,
    send,
    unique_subject,
    wait_for,
    wait_until,
)
from tests.mailserver.mail_data import PASSWORD, add_alias, add_mailbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_alias_to_a_disabled_mailbox_is_refused_at_rcpt(mailserver, admin_api, domain):
    user = add_mailbox(admin_api, f"alice@{domain}")
    add_alias(admin_api, f"info@{domain}", [f"alice@{domain}"])
    assert rcpt(mailserver, f"info@{domain}")[0] == 250
    assert admin_api.patch(f"/users/{user['id']}", {"active": False}).status == 200
    code, reply = rcpt(mailserver, f"info@{domain}")
    assert 500 <= code < 600, reply
    code, reply = rcpt(mailserver, f"info+news@{domain}")
    assert 500 <= code < 600, reply


def test_an_alias_to_a_mistyped_local_address_is_refused_at_rcpt(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    add_alias(admin_api, f"info@{domain}", [f"alcie@{domain}"])
    code, reply = rcpt(mailserver, f"info@{domain}")
    assert 500 <= code < 600, reply


def test_an_alias_with_one_live_destination_still_takes_mail(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    add_mailbox(admin_api, f"bob@{domain}", active=False)
    add_alias(admin_api, f"team@{domain}", [f"bob@{domain}", f"alice@{domain}"])
    add_alias(admin_api, f"ext@{domain}", ["someone@elsewhere.example"])
    add_alias(admin_api, f"chain@{domain}", [f"team@{domain}"])
    for address in [f"team@{domain}", f"ext@{domain}", f"chain@{domain}"]:
        assert rcpt(mailserver, address)[0] == 250, address
    subject = unique_subject("Team")
    send(mailserver, f"team@{domain}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)


def test_an_alias_to_an_unknown_address_of_a_catch_all_domain_takes_mail(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    found = admin_api.get("/domains", QUERY_STRING=f"search={domain}").body["items"][0]
    assert (
        admin_api.patch(f"/domains/{found['id']}", {"catch_all": f"alice@{domain}"}).status == 200
    )
    add_alias(admin_api, f"info@{domain}", [f"typo@{domain}"])
    assert rcpt(mailserver, f"info@{domain}")[0] == 250


def test_a_full_mailbox_is_refused_at_rcpt_when_the_client_declares_no_size(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"small@{domain}", quota_mb=1)
    for size in [700_000, 340_000]:  # the second one goes over, within Dovecot's grace
        subject = unique_subject("Filling")
        send(mailserver, f"small@{domain}", subject, size=size)
        assert subject in wait_for(mailserver, f"small@{domain}", PASSWORD, subject)
    with smtplib.SMTP("127.0.0.1", mailserver.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.mail(SENDER)[0] == 250  # no SIZE=
        code, reply = smtp.rcpt(f"small@{domain}")
    assert code == 552 and b"Mailbox is full" in reply, (code, reply)


def send_without_size(server, to: str, subject: str, size: int) -> tuple[int, bytes]:
    """Postfix's answer at the end of DATA to a message sent without SIZE=."""
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as smtp:
        smtp.ehlo()
        assert smtp.mail(SENDER)[0] == 250  # no SIZE=
        assert smtp.rcpt(to)[0] == 250  # 1 byte fits: Dovecot's quota-status lets it in
        try:
            return smtp.data(message(to, subject, size=size).as_bytes())
        except smtplib.SMTPDataError as error:
            return error.smtp_code, error.smtp_error


def half_full(server, admin_api, address: str) -> None:
    """A mailbox of 1 MB holding about 700 kB, as Dovecot has reported it to the panel."""
    add_mailbox(admin_api, address, quota_mb=1)
    subject = unique_subject("Filling")
    send(server, address, subject, size=700_000)
    assert subject in wait_for(server, address, PASSWORD, subject)
    assert wait_until(
        lambda: MailboxUsage.objects.filter(address=address, bytes__gt=700_000).exists()
    )


def test_a_message_too_big_for_the_room_left_is_refused_at_the_end_of_data_without_size(
    mailserver, admin_api, domain
):
    half_full(mailserver, admin_api, f"small@{domain}")
    code, reply = send_without_size(mailserver, f"small@{domain}", unique_subject("Big"), 700_000)
    assert code == 552 and b"larger than the room left" in reply, (code, reply)


def test_a_message_that_fits_the_room_left_is_taken_without_size(mailserver, admin_api, domain):
    half_full(mailserver, admin_api, f"small@{domain}")
    for size in [50_000, 300_000]:  # the second one within Dovecot's grace, as Dovecot takes it
        subject = unique_subject("Fits")
        assert send_without_size(mailserver, f"small+tag@{domain}", subject, size)[0] == 250
        assert subject in wait_for(mailserver, f"small@{domain}", PASSWORD, subject)
