"""Upgrading to Domains scopes (SPEC §17): existing Sub-Admins keep all domains, and the events
recorded before name the domain they are about, as record() names it now, so that a limited
Sub-Admin reads the history of its domains and nothing else."""

import pytest

from tests.migrating import leaves, migrate

BEFORE = [("audit", "0004_event_indexes"), ("accounts", "0013_account_person_required")]
AFTER = [("audit", "0005_event_domain"), ("accounts", "0014_account_all_domains")]


@pytest.mark.django_db(transaction=True)
def test_old_events_name_their_domain_and_old_subadmins_see_all_domains():
    apps = migrate(BEFORE)
    try:
        Person = apps.get_model("people", "Person")
        Account = apps.get_model("accounts", "Account")
        desk = Account.objects.create(username="desk", person=Person.objects.create(kind="account"))
        Event = apps.get_model("audit", "Event")
        rows = {
            "domain_created": ({"domain": "b.example"}, ""),
            "mailbox_created": ({"address": "ceo@bücher.example"}, ""),
            "alias_domain_updated": (
                {"alias_domain": "b-alias.example", "target": "b.example"},
                "",
            ),
            "mail_login": ({"protocol": "IMAP"}, "ceo@a.example"),
            "mailboxes_imported": ({"count": 3}, ""),
            "mailbox_login": ({"two_factor": False}, "owner@a.example"),  # My mailbox
            "web_login_failed": ({}, "guess@a.example"),  # a deleted account's name, say
            "subadmin_created": ({"subadmin": "desk"}, ""),
        }
        for name, (details, actor_name) in rows.items():
            Event.objects.create(event=name, details=details, actor_name=actor_name)
        apps = migrate(AFTER)
        found = dict(apps.get_model("audit", "Event").objects.values_list("event", "domain"))
        all_domains = apps.get_model("accounts", "Account").objects.get(pk=desk.pk).all_domains
    finally:
        migrate(leaves())
    assert found == {
        "domain_created": "b.example",
        "mailbox_created": "xn--bcher-kva.example",
        "alias_domain_updated": "b.example",
        "mail_login": "a.example",
        "mailbox_login": "a.example",
        "mailboxes_imported": "",
        "web_login_failed": "",
        "subadmin_created": "",
    }
    assert all_domains
