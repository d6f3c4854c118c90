"""Mailboxes, aliases and domains made through the panel's API for the mail tests."""

from adminpanel.mail.models import Mailbox

PASSWORD = "Mailbox-Cobalt-Harbor-27"


def add_mailbox(admin_api, address: str, **fields) -> dict:
    answer = admin_api.post("/users", {"address": address, "password": PASSWORD, **fields})
    assert answer.status == 201, answer.body
    return answer.body


def add_mailbox_row(admin_api, address: str, **fields) -> Mailbox:
    """add_mailbox, and the mailbox's row (its domain read with it)."""
    created = add_mailbox(admin_api, address, **fields)
    return Mailbox.objects.select_related("domain").get(pk=created["id"])


def add_alias(admin_api, address: str, destinations: list[str]) -> dict:
    answer = admin_api.post("/aliases", {"address": address, "destinations": destinations})
    assert answer.status == 201, answer.body
    return answer.body


def add_alice_bob_and_team(admin_api, domain: str) -> None:
    """The senders' cast: alice@ and bob@ the domain, and team@ delivering to alice."""
    for name in ["alice", "bob"]:
        add_mailbox(admin_api, f"{name}@{domain}")
    add_alias(admin_api, f"team@{domain}", [f"alice@{domain}"])


def domain_id(admin_api, name: str) -> int:
    return admin_api.get("/domains", QUERY_STRING=f"search={name}").body["items"][0]["id"]
