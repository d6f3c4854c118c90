"""SPEC §16 end to end: with the alias domain `x.example` → `d.example`, mail to any address
of x.example reaches the same local part of d.example, read over IMAP there; what d.example
does not take, x.example does not take either, refused at RCPT TO. The panel is driven through
its API, mail goes through the private Postfix and Dovecot."""

from itertools import count

import pytest

from tests.mailserver.mail import rcpt, send, subjects, unique_subject, wait_for
from tests.mailserver.mail_data import PASSWORD, add_mailbox

_names = count(1)

pytestmark = pytest.mark.django_db(transaction=True)


def add_alias_domain(admin_api, target: str) -> dict:
    """A fresh alias domain of `target`."""
    name = f"alias{next(_names)}-{target}"
    answer = admin_api.post("/alias-domains", {"name": name, "target": target})
    assert answer.status == 201, answer.body
    return answer.body


def domain_id(admin_api, name: str) -> int:
    return admin_api.get("/domains", QUERY_STRING=f"search={name}").body["items"][0]["id"]


def test_mail_to_an_address_of_the_alias_domain_is_read_in_the_targets_mailbox(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    other = add_alias_domain(admin_api, domain)["name"]
    subject = unique_subject("Via the other name")
    send(mailserver, f"alice@{other}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)


def test_an_unknown_local_part_of_the_alias_domain_is_refused_at_rcpt(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    other = add_alias_domain(admin_api, domain)["name"]
    code, reply = rcpt(mailserver, f"nobody@{other}")
    assert code == 550, reply
    assert rcpt(mailserver, f"alice@{other}")[0] == 250


def test_an_alias_of_the_target_is_reached_through_the_alias_domain(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    add_mailbox(admin_api, f"bob@{domain}")
    answer = admin_api.post(
        "/aliases",
        {"address": f"team@{domain}", "destinations": [f"alice@{domain}", f"bob@{domain}"]},
    )
    assert answer.status == 201, answer.body
    other = add_alias_domain(admin_api, domain)["name"]
    subject = unique_subject("To the team, by the other name")
    send(mailserver, f"team@{other}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)
    assert subject in wait_for(mailserver, f"bob@{domain}", PASSWORD, subject)


def test_the_targets_catch_all_takes_unknown_local_parts_of_the_alias_domain(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    catch_all = {"catch_all": f"alice@{domain}"}
    assert admin_api.patch(f"/domains/{domain_id(admin_api, domain)}", catch_all).status == 200
    other = add_alias_domain(admin_api, domain)["name"]
    subject = unique_subject("Caught by the other name")
    send(mailserver, f"whoever@{other}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)


def test_a_tagged_address_of_the_alias_domain_reaches_the_mailbox(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    other = add_alias_domain(admin_api, domain)["name"]
    subject = unique_subject("Tagged, by the other name")
    send(mailserver, f"alice+news@{other}", subject)
    assert subject in wait_for(mailserver, f"alice@{domain}", PASSWORD, subject)
    assert rcpt(mailserver, f"nobody+news@{other}")[0] == 550


def test_an_inactive_alias_domain_is_refused_at_rcpt(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    other = add_alias_domain(admin_api, domain)
    assert rcpt(mailserver, f"alice@{other['name']}")[0] == 250
    answer = admin_api.patch(f"/alias-domains/{other['id']}", {"active": False})
    assert answer.status == 200, answer.body
    code, reply = rcpt(mailserver, f"alice@{other['name']}")
    assert 500 <= code < 600, reply
    assert rcpt(mailserver, f"alice@{domain}")[0] == 250


def test_the_addresses_of_an_alias_domain_of_an_inactive_domain_are_refused_at_rcpt(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    other = add_alias_domain(admin_api, domain)["name"]
    assert rcpt(mailserver, f"alice@{other}")[0] == 250
    assert (
        admin_api.patch(f"/domains/{domain_id(admin_api, domain)}", {"active": False}).status == 200
    )
    code, reply = rcpt(mailserver, f"alice@{other}")
    assert 500 <= code < 600, reply


def test_an_inactive_mailbox_is_refused_through_the_alias_domain_even_with_a_catch_all(
    mailserver, admin_api, domain
):
    add_mailbox(admin_api, f"alice@{domain}")
    off = add_mailbox(admin_api, f"off@{domain}")
    assert admin_api.patch(f"/users/{off['id']}", {"active": False}).status == 200
    catch_all = {"catch_all": f"alice@{domain}"}
    assert admin_api.patch(f"/domains/{domain_id(admin_api, domain)}", catch_all).status == 200
    other = add_alias_domain(admin_api, domain)["name"]
    for address in (f"off@{other}", f"off+tag@{other}"):
        code, reply = rcpt(mailserver, address)
        assert code == 554 and "disabled" in reply, (address, reply)


def test_a_deleted_alias_domain_takes_no_more_mail(mailserver, admin_api, domain):
    add_mailbox(admin_api, f"alice@{domain}")
    other = add_alias_domain(admin_api, domain)
    assert rcpt(mailserver, f"alice@{other['name']}")[0] == 250
    assert admin_api.delete(f"/alias-domains/{other['id']}").status == 204
    code, reply = rcpt(mailserver, f"alice@{other['name']}")
    assert 500 <= code < 600, reply
    assert subjects(mailserver, f"alice@{domain}", PASSWORD) == []
