"""SPEC §16 end to end, with the real Postfix and Dovecot: a mailbox's mail is its own for its
whole life. An address given to someone new opens an empty mailbox, never the previous
owner's mail, and no address can reach into another mailbox's maildir."""

import pytest

from adminpanel.mail.models import Mailbox
from tests.mailserver.mail import (
    can_log_in,
    rcpt,
    send,
    subjects,
    unique_subject,
    wait_for,
    wait_until,
)
from tests.mailserver.mail_data import PASSWORD, add_mailbox

NEW_OWNERS_PASSWORD = "Mailbox-Amber-Quarry-58"

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_address_deleted_and_given_to_someone_new_opens_an_empty_inbox(
    mailserver, admin_api, domain
):
    alice = f"alice@{domain}"
    first = add_mailbox(admin_api, alice)
    private = unique_subject("For the first Alice only")
    send(mailserver, alice, private)
    assert private in wait_for(mailserver, alice, PASSWORD, private)
    assert admin_api.delete(f"/users/{first['id']}").status == 204

    add_mailbox(admin_api, alice, password=NEW_OWNERS_PASSWORD)
    assert subjects(mailserver, alice, NEW_OWNERS_PASSWORD) == []
    welcome = unique_subject("For the new Alice")
    send(mailserver, alice, welcome)
    assert wait_for(mailserver, alice, NEW_OWNERS_PASSWORD, welcome) == [welcome]


def test_a_slash_in_a_local_part_is_refused_so_no_maildir_nests_in_another(admin_api, domain):
    add_mailbox(admin_api, f"a@{domain}")
    for local in ["a/.Sent", "a/b", "../a", "a/"]:
        answer = admin_api.post("/users", {"address": f"{local}@{domain}", "password": PASSWORD})
        assert (answer.status, list(answer.body["fields"])) == (422, ["address"]), local
        alias = {"address": f"{local}@{domain}", "destinations": [f"a@{domain}"]}
        answer = admin_api.post("/aliases", alias)
        assert (answer.status, list(answer.body["fields"])) == (422, ["address"]), local


def test_a_deleted_mailbox_refuses_mail_at_once_and_restore_brings_its_mail_back(
    mailserver, admin_api, domain
):
    anna = f"anna@{domain}"
    mailbox = add_mailbox(admin_api, anna)
    kept = unique_subject("Kept through the grace period")
    send(mailserver, anna, kept)
    assert kept in wait_for(mailserver, anna, PASSWORD, kept)

    assert admin_api.delete(f"/users/{mailbox['id']}").status == 204
    assert 500 <= rcpt(mailserver, anna)[0] < 600
    assert not can_log_in(mailserver, anna, PASSWORD)

    assert admin_api.post(f"/users/{mailbox['id']}/restore").status == 200
    assert subjects(mailserver, anna, PASSWORD) == [kept]


def test_purge_now_removes_the_maildir_on_the_mail_host_and_the_panel_forgets_it(
    mailserver, admin_api, domain
):
    anna = f"anna@{domain}"
    mailbox = add_mailbox(admin_api, anna)
    subject = unique_subject("To be purged")
    send(mailserver, anna, subject)
    assert subject in wait_for(mailserver, anna, PASSWORD, subject)
    maildir = mailserver.mail_root / Mailbox.objects.get(pk=mailbox["id"]).maildir
    assert any(maildir.rglob("*,S=*"))  # the message's file

    admin_api.delete(f"/users/{mailbox['id']}")
    assert maildir.exists()  # the grace period keeps it
    assert admin_api.delete(f"/users/deleted/{mailbox['id']}").status == 204
    assert wait_until(lambda: not maildir.exists())  # mailserver-run purges every second
    assert wait_until(lambda: admin_api.get("/users/deleted").body["items"] == [])
    assert not Mailbox.with_deleted.filter(pk=mailbox["id"]).exists()


def test_a_renamed_mailbox_keeps_its_mail_and_the_old_address_kept_as_alias_delivers(
    mailserver, admin_api, domain
):
    old, new = f"anna@{domain}", f"anna.berg@{domain}"
    mailbox = add_mailbox(admin_api, old)
    before = unique_subject("Before the rename")
    send(mailserver, old, before)
    assert before in wait_for(mailserver, old, PASSWORD, before)

    body = {"address": new, "keep_old_address_as_alias": True}
    assert admin_api.patch(f"/users/{mailbox['id']}", body).status == 200
    assert not can_log_in(mailserver, old, PASSWORD)
    after = unique_subject("To the old address")
    send(mailserver, old, after)
    assert sorted(wait_for(mailserver, new, PASSWORD, after)) == sorted([before, after])


def test_a_renamed_mailbox_without_the_alias_refuses_mail_to_the_old_address(
    mailserver, admin_api, domain
):
    mailbox = add_mailbox(admin_api, f"carl@{domain}")
    assert admin_api.patch(f"/users/{mailbox['id']}", {"address": f"karl@{domain}"}).status == 200
    assert 500 <= rcpt(mailserver, f"carl@{domain}")[0] < 600
    assert rcpt(mailserver, f"karl@{domain}")[0] == 250


def test_a_mailbox_with_sign_in_off_receives_but_no_password_opens_it(
    mailserver, admin_api, domain
):
    leaver = f"leaver@{domain}"
    mailbox = add_mailbox(admin_api, leaver)
    assert admin_api.patch(f"/users/{mailbox['id']}", {"sign_in_allowed": False}).status == 200
    assert not can_log_in(mailserver, leaver, PASSWORD)
    subject = unique_subject("While sign-in is off")
    send(mailserver, leaver, subject)
    maildir = mailserver.mail_root / Mailbox.objects.get(pk=mailbox["id"]).maildir
    assert wait_until(lambda: any(maildir.rglob("*,S=*")))  # delivered all the same

    assert admin_api.patch(f"/users/{mailbox['id']}", {"sign_in_allowed": True}).status == 200
    assert subjects(mailserver, leaver, PASSWORD) == [subject]
