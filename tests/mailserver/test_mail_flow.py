"""SPEC §10 end to end: what the panel saves is what Postfix and Dovecot do with the next
message and the next login. The panel is driven through its API, mail is sent with smtplib to
the private Postfix and read with imaplib from the private Dovecot."""

import html
import smtplib
import subprocess

import pytest
from django.template.defaultfilters import filesizeformat
from django.test import Client

from adminpanel.mailserver.instance import program
from tests.mailserver.accounts import ADMIN_PASSWORD
from tests.mailserver.mail import (
    can_log_in,
    eventually,
    rcpt,
    send,
    subjects,
    unique_subject,
    wait_for,
)
from tests.mailserver.mail_data import PASSWORD, add_alias, add_mailbox, domain_id

NEW_PASSWORD = "Mailbox-Amber-Quarry-58"

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_mailbox_created_in_the_panel_receives_mail_read_over_imap(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    subject = unique_subject("Welcome")
    send(mailserver, f"alice@{domain}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)


def test_the_password_set_in_the_panel_logs_in_and_a_wrong_one_does_not(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    assert can_log_in(mailserver, f"alice@{domain}", PASSWORD)
    assert not can_log_in(mailserver, f"alice@{domain}", PASSWORD + "x")


def test_after_a_password_change_the_new_one_works_at_once_and_the_old_one_is_refused(
    mailserver, admin_api, domain
):
    user = add_mailbox(admin_api, f"alice@{domain}")
    assert can_log_in(mailserver, f"alice@{domain}", PASSWORD)
    assert admin_api.patch(f"/users/{user['id']}", {"password": NEW_PASSWORD}).status == 200
    assert can_log_in(mailserver, f"alice@{domain}", NEW_PASSWORD)
    assert not can_log_in(mailserver, f"alice@{domain}", PASSWORD)


def test_the_login_name_is_the_address_in_any_case(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"Bob@{domain}")
    assert can_log_in(mailserver, f"bob@{domain.upper()}", PASSWORD)


def test_an_alias_delivers_to_each_destination(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    add_mailbox(admin_api, f"bob@{domain}")
    add_alias(admin_api, f"team@{domain}", [f"alice@{domain}", f"bob@{domain}"])
    subject = unique_subject("To the team")
    send(mailserver, f"team@{domain}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)
    assert subject in wait_for(mailserver, f"bob@{domain}", PASSWORD, subject)


def test_a_catch_all_receives_mail_for_unknown_local_parts_but_not_for_mailboxes(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    add_mailbox(admin_api, f"bob@{domain}")
    answer = admin_api.patch(
        f"/domains/{domain_id(admin_api, domain)}", {"catch_all": f"bob@{domain}"}
    )
    assert answer.status == 200, answer.body
    stray, direct = unique_subject("Stray"), unique_subject("Direct")
    send(mailserver, f"nobody@{domain}", stray)
    send(mailserver, f"alice@{domain}", direct)
    assert stray in wait_for(mailserver, f"bob@{domain}", PASSWORD, stray)
    assert direct in wait_for(mailserver, f"alice@{domain}", PASSWORD, direct)
    assert direct not in subjects(mailserver, f"bob@{domain}", PASSWORD)


def test_vrfy_tells_nothing_about_addresses(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    with smtplib.SMTP("127.0.0.1", mailserver.smtp_port, timeout=30) as smtp:
        code, reply = smtp.verify(f"alice@{domain}")
    assert code == 502, reply


def test_an_unknown_address_is_refused_at_rcpt(mailserver, admin_api, domain):
    code, reply = rcpt(mailserver, f"nobody@{domain}")
    assert code == 550, reply


def test_rcpt_probes_never_wait_for_postfixs_inflow_tokens(mailserver):
    """Each transaction that reaches an accepted RCPT takes one of Postfix's 100 inflow tokens,
    and only a queued message gives tokens back: after 100 probes (MAIL, RCPT, RSET) every
    accepted RCPT waited in_flow_delay, 1 s (benchmarks/mailserver.py). The private instance
    runs without it, as the running Postfix reports."""
    reported = subprocess.run(
        [program("postconf"), "-c", str(mailserver.postfix_dir), "-h", "in_flow_delay"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert reported.stdout.strip() == "0"


def test_an_address_of_a_domain_the_panel_does_not_have_is_refused_at_rcpt(mailserver, admin_api):
    code, reply = rcpt(mailserver, "someone@not-in-the-panel.example")
    assert 500 <= code < 600, reply


def test_an_inactive_mailbox_is_refused_at_rcpt_and_cannot_log_in(mailserver, admin_api, domain):
    user = add_mailbox(admin_api, f"alice@{domain}")
    assert rcpt(mailserver, f"alice@{domain}")[0] == 250
    assert admin_api.patch(f"/users/{user['id']}", {"active": False}).status == 200
    code, reply = rcpt(mailserver, f"alice@{domain}")
    assert 500 <= code < 600, reply
    assert not can_log_in(mailserver, f"alice@{domain}", PASSWORD)


def test_an_inactive_alias_is_refused_at_rcpt(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    alias = add_alias(admin_api, f"info@{domain}", [f"alice@{domain}"])
    assert admin_api.patch(f"/aliases/{alias['id']}", {"active": False}).status == 200
    code, reply = rcpt(mailserver, f"info@{domain}")
    assert code == 550, reply


def test_every_address_of_an_inactive_domain_is_refused_and_its_mailboxes_cannot_log_in(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    add_alias(admin_api, f"info@{domain}", [f"alice@{domain}"])
    answer = admin_api.patch(
        f"/domains/{domain_id(admin_api, domain)}", {"catch_all": f"alice@{domain}"}
    )
    assert answer.status == 200, answer.body
    assert (
        admin_api.patch(f"/domains/{domain_id(admin_api, domain)}", {"active": False}).status == 200
    )
    for address in [f"alice@{domain}", f"info@{domain}", f"anyone@{domain}"]:
        code, reply = rcpt(mailserver, address)
        assert 500 <= code < 600, (address, reply)
    assert not can_log_in(mailserver, f"alice@{domain}", PASSWORD)


def test_a_deleted_domain_is_refused_at_rcpt(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    answer = admin_api.delete(
        f"/domains/{domain_id(admin_api, domain)}", QUERY_STRING="cascade=true"
    )
    assert answer.status == 204
    code, reply = rcpt(mailserver, f"alice@{domain}")
    assert 500 <= code < 600, reply
    assert not can_log_in(mailserver, f"alice@{domain}", PASSWORD)


def test_a_mailbox_over_its_quota_refuses_more_mail(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"small@{domain}", quota_mb=1)
    first = unique_subject("Fits")
    send(mailserver, f"small@{domain}", first, size=700_000)
    assert first in wait_for(mailserver, f"small@{domain}", PASSWORD, first)
    with pytest.raises(Exception) as refused:
        send(mailserver, f"small@{domain}", unique_subject("Too much"), size=700_000)
    assert "552" in str(refused.value) and "Mailbox is full" in str(refused.value)


def test_an_idn_domain_receives_mail_addressed_in_its_a_label(mailserver, admin_api):
    assert admin_api.post("/domains", {"name": "bücher.example"}).status == 201
    add_mailbox(admin_api, "info@bücher.example")
    subject = unique_subject("Books")
    send(mailserver, "info@xn--bcher-kva.example", subject)
    assert subject in wait_for(mailserver, "info@xn--bcher-kva.example", PASSWORD, subject)


def test_storage_used_is_shown_in_the_api_and_on_users(mailserver, admin_api, domain):
    user = add_mailbox(admin_api, f"alice@{domain}")
    assert user["storage_used_bytes"] is None
    subject = unique_subject("Weighty")
    send(mailserver, f"alice@{domain}", subject, size=50_000)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)
    # Dovecot clones the quota into the panel's database right after it stores the message.
    used = eventually(lambda: admin_api.get(f"/users/{user['id']}").body["storage_used_bytes"])
    assert used > 50_000
    listed = admin_api.get("/users", QUERY_STRING=f"search=alice@{domain}").body["items"]
    assert listed[0]["storage_used_bytes"] == used
    browser = Client()
    browser.post("/login", {"username": "admin", "password": ADMIN_PASSWORD})
    page = html.unescape(browser.get("/users", {"q": f"alice@{domain}"}).content.decode())
    assert "Storage used" in page
    assert filesizeformat(used) in page
