"""Mail that would come back where it started is refused when it is saved (issue 21): loops
through aliases, alias domains, catch-alls and mailboxes' forwarding, whichever is saved last
closes the loop, each refused by its field with the route it would take, nothing changed."""

import pytest

from adminpanel.errors import Invalid
from adminpanel.mail import services as mail
from adminpanel.mail.alias_domains import create_alias_domain
from adminpanel.mail.leaving import set_forwarding
from adminpanel.mail.models import Alias, AliasDomain, Domain, Forwarding
from tests.integration.panel import MAILBOX_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def example(admin) -> Domain:
    return mail.create_domain(admin, name="example.com")


def mailbox(admin, address: str):
    return mail.create_mailbox(admin, address=address, password=MAILBOX_PASSWORD)


def refused(call, field: str) -> str:
    with pytest.raises(Invalid) as error:
        call()
    assert error.value.field == field
    return error.value.message


def test_an_alias_through_an_alias_domain_back_to_itself_is_refused(admin, example):
    create_alias_domain(admin, name="example.org", target="example.com")
    # team@example.org is team@example.com once the alias exists: team → itself.
    message = refused(
        lambda: mail.create_alias(
            admin, address="team@example.com", destinations=["team@example.org"]
        ),
        "destinations",
    )
    assert "loop through aliases and an alias domain" in message
    assert "team@example.com → team@example.org → team@example.com" in message
    assert not Alias.objects.exists()


def test_an_alias_through_a_mailboxs_forwarding_back_to_itself_is_refused(admin, example):
    anna = mailbox(admin, "anna@example.com")
    set_forwarding(anna, destinations=["team@example.com"], keep_copy=True, actor=admin)
    message = refused(
        lambda: mail.create_alias(
            admin, address="team@example.com", destinations=["Anna@example.com"]
        ),
        "destinations",
    )
    assert "through aliases and a mailbox's forwarding" in message
    assert "team@example.com → anna@example.com → team@example.com" in message


def test_editing_an_alias_into_a_loop_through_forwarding_is_refused(admin, example):
    anna = mailbox(admin, "anna@example.com")
    team = mail.create_alias(admin, address="team@example.com", destinations=["x@elsewhere.test"])
    set_forwarding(anna, destinations=["team@example.com"], keep_copy=False, actor=admin)
    refused(
        lambda: mail.update_alias(admin, team, destinations=["anna+work@example.com"]),
        "destinations",
    )
    team.refresh_from_db()
    assert team.destinations == ["x@elsewhere.test"]


def test_forwarding_through_an_alias_domain_back_to_the_mailbox_is_refused(admin, example):
    anna = mailbox(admin, "anna@example.com")
    create_alias_domain(admin, name="example.org", target="example.com")
    message = refused(
        lambda: set_forwarding(anna, destinations=["anna@example.org"], actor=admin),
        "destinations",
    )
    assert "a loop through a mailbox's forwarding and an alias domain" in message
    assert not Forwarding.objects.exists()


def test_forwarding_caught_by_the_catch_all_back_to_the_mailbox_is_refused(admin, example):
    anna = mailbox(admin, "anna@example.com")
    mail.update_domain(admin, example, catch_all="anna@example.com")
    message = refused(
        lambda: set_forwarding(anna, destinations=["nobody@example.com"], actor=admin),
        "destinations",
    )
    assert "anna@example.com → nobody@example.com → @example.com → anna@example.com" in message


def test_an_alias_domain_that_would_close_a_loop_is_refused(admin, example):
    # team@example.com → team@example.org is mail elsewhere until example.org names example.com.
    mail.create_alias(admin, address="team@example.com", destinations=["team@example.org"])
    message = refused(
        lambda: create_alias_domain(admin, name="example.org", target="example.com"), "name"
    )
    assert "team@example.org → team@example.com → team@example.org" in message
    assert not AliasDomain.objects.exists()


def test_a_catch_all_that_would_close_a_loop_is_refused(admin, example):
    mail.create_alias(admin, address="team@example.com", destinations=["lost@example.com"])
    message = refused(
        lambda: mail.update_domain(admin, example, catch_all="team@example.com"), "catch_all"
    )
    assert "@example.com → team@example.com → lost@example.com → @example.com" in message
    example.refresh_from_db()
    assert example.catch_all == ""


def test_a_new_domain_whose_catch_all_closes_a_loop_is_refused(admin, example):
    mail.create_alias(admin, address="team@example.com", destinations=["any@example.net"])
    refused(
        lambda: mail.create_domain(admin, name="example.net", catch_all="team@example.com"),
        "catch_all",
    )
    assert not Domain.objects.filter(name="example.net").exists()


def test_a_disabled_alias_counts_too(admin, example):
    """Switching it on later must not close a loop nobody checked."""
    mail.create_alias(
        admin, address="team@example.com", destinations=["staff@example.com"], active=False
    )
    refused(
        lambda: mail.create_alias(
            admin, address="staff@example.com", destinations=["team@example.com"]
        ),
        "destinations",
    )


def test_routes_that_end_somewhere_are_saved(admin, example):
    anna = mailbox(admin, "anna@example.com")
    bob = mailbox(admin, "bob@example.com")
    create_alias_domain(admin, name="example.org", target="example.com")
    mail.update_domain(admin, example, catch_all="anna@example.com")
    mail.create_alias(admin, address="team@example.com", destinations=["anna@example.org"])
    set_forwarding(anna, destinations=["bob@example.com", "someone@elsewhere.test"], actor=admin)
    set_forwarding(bob, destinations=["someone@elsewhere.test"], actor=admin)
    assert Forwarding.objects.count() == 2
