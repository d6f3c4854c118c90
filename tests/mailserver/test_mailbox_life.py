"""SPEC §16 end to end, with the real Postfix and Dovecot: a mailbox's mail is its own for its
whole life. An address given to someone new opens an empty mailbox, never the previous
owner's mail, and no address can reach into another mailbox's maildir."""

import pytest

from tests.mailserver.mail import send, subjects, unique_subject, wait_for

PASSWORD = "Mailbox-Cobalt-Harbor-27"
NEW_OWNERS_PASSWORD = "Mailbox-Amber-Quarry-58"

pytestmark = pytest.mark.django_db(transaction=True)


def add_mailbox(panel, address: str, password: str = PASSWORD) -> dict:
    answer = panel.post("/users", {"address": address, "password": password})
    assert answer.status == 201, answer.body
    return answer.body


def test_an_address_deleted_and_given_to_someone_new_opens_an_empty_inbox(
    mailserver, panel, domain
):
    alice = f"alice@{domain}"
    first = add_mailbox(panel, alice)
    private = unique_subject("For the first Alice only")
    send(mailserver, alice, private)
    assert private in wait_for(mailserver, alice, PASSWORD, private)
    assert panel.delete(f"/users/{first['id']}").status == 204

    add_mailbox(panel, alice, NEW_OWNERS_PASSWORD)
    assert subjects(mailserver, alice, NEW_OWNERS_PASSWORD) == []
    welcome = unique_subject("For the new Alice")
    send(mailserver, alice, welcome)
    assert wait_for(mailserver, alice, NEW_OWNERS_PASSWORD, welcome) == [welcome]


def test_a_slash_in_a_local_part_is_refused_so_no_maildir_nests_in_another(panel, domain):
    add_mailbox(panel, f"a@{domain}")
    for local in ["a/.Sent", "a/b", "../a", "a/"]:
        answer = panel.post("/users", {"address": f"{local}@{domain}", "password": PASSWORD})
        assert (answer.status, list(answer.body["fields"])) == (422, ["address"]), local
        alias = {"address": f"{local}@{domain}", "destinations": [f"a@{domain}"]}
        answer = panel.post("/aliases", alias)
        assert (answer.status, list(answer.body["fields"])) == (422, ["address"]), local
