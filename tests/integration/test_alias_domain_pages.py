"""SPEC §16, alias domains on the Domains page: **Add alias domain** with **Alias domain** and
**Target domain**, listed on Domains, deleted after a confirmation; the Domains section's levels
apply; every refusal is a message by its field and changes nothing; every change is logged."""

import pytest

from adminpanel.mail import alias_domains
from adminpanel.mail import services as mail
from adminpanel.mail.models import AliasDomain, Domain
from tests.integration.panel import events, field_error, log_in_admin, make_subadmin, signed_in
from tests.integration.panel import text as page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(admin):
    return log_in_admin()


@pytest.fixture
def example(admin) -> Domain:
    return mail.create_domain(admin, name="example.com")


@pytest.fixture
def org(admin, example) -> AliasDomain:
    return alias_domains.create_alias_domain(admin, name="example.org", target="example.com")


def test_the_add_form_asks_for_the_alias_domain_and_a_target_chosen_among_the_domains(
    client, example
):
    page = page_text(client.get("/domains/alias-domains/add"))
    assert '<label for="id_name">Alias domain' in page
    assert '<label for="id_target">Target domain' in page
    assert '<select name="target"' in page and '<option value="example.com">' in page


def test_adding_an_alias_domain_lists_it_on_the_domains_page_and_logs_it(admin, client, example):
    response = client.post(
        "/domains/alias-domains/add", {"name": "Example.ORG", "target": "example.com"}
    )
    assert response.status_code == 302 and response.url == "/domains"
    added = AliasDomain.objects.get()
    assert (added.name, added.target, added.active) == ("example.org", example, True)
    page = page_text(client.get("/domains"))
    assert "Add alias domain" in page
    assert "example.org" in page and f'href="/domains/alias-domains/{added.pk}/delete"' in page
    (event,) = events("alias_domain_created")
    assert event.actor == admin
    assert event.details == {"alias_domain": "example.org", "target": "example.com", "active": True}


def test_an_existing_domain_cannot_become_an_alias_domain(admin, client, example):
    mail.create_domain(admin, name="example.net")
    response = client.post(
        "/domains/alias-domains/add", {"name": "example.net", "target": "example.com"}
    )
    assert response.status_code == 400
    assert "already a domain" in field_error(response, "name")
    assert not AliasDomain.objects.exists() and not events("alias_domain_created")


def test_a_domain_cannot_be_its_own_alias_domain(client, example):
    response = client.post(
        "/domains/alias-domains/add", {"name": "example.com", "target": "example.com"}
    )
    assert response.status_code == 400
    assert "itself" in field_error(response, "target")
    assert not AliasDomain.objects.exists()


def test_the_alias_domain_is_deleted_after_confirming_and_its_target_stays(
    admin, client, example, org
):
    confirm = page_text(client.get(f"/domains/alias-domains/{org.pk}/delete"))
    assert "Delete alias domain example.org?" in confirm
    assert AliasDomain.objects.exists()  # the page only asks
    response = client.post(f"/domains/alias-domains/{org.pk}/delete")
    assert response.status_code == 302 and response.url == "/domains"
    assert not AliasDomain.objects.exists() and Domain.objects.get() == example
    (event,) = events("alias_domain_deleted")
    assert event.details == {"alias_domain": "example.org", "target": "example.com"}


def test_the_domain_delete_page_names_its_alias_domains_and_cascade_takes_them_along(
    client, example, org
):
    page = page_text(client.get(f"/domains/{example.pk}/delete"))
    assert "1 alias domain that sends mail to it" in page
    assert "Also delete its mailboxes and aliases, and its alias domains" in page
    refused = client.post(f"/domains/{example.pk}/delete")
    assert refused.status_code == 400 and "1 alias domain(s)" in page_text(refused)
    assert AliasDomain.objects.exists()
    assert client.post(f"/domains/{example.pk}/delete", {"cascade": "on"}).status_code == 302
    assert not AliasDomain.objects.exists() and not Domain.objects.exists()
    (event,) = events("domain_deleted")
    assert event.details["alias_domains_deleted"] == ["example.org"]


def test_alias_domains_follow_the_domains_levels(admin, example, org):
    make_subadmin(admin, "viewer", levels={"domains": 1})
    viewer = signed_in("viewer")
    page = page_text(viewer.get("/domains"))
    assert "example.org" in page
    assert "Add alias domain" not in page and "/domains/alias-domains/" not in page
    assert viewer.get("/domains/alias-domains/add").status_code == 403
    assert viewer.post(f"/domains/alias-domains/{org.pk}/delete").status_code == 403
    make_subadmin(admin, "editor", levels={"domains": 2})
    editor = signed_in("editor")
    added = editor.post(
        "/domains/alias-domains/add", {"name": "example.net", "target": "example.com"}
    )
    assert added.status_code == 302
    assert editor.post(f"/domains/alias-domains/{org.pk}/delete").status_code == 403
    assert AliasDomain.objects.filter(pk=org.pk).exists()
    make_subadmin(admin, "nobody", levels={})
    assert signed_in("nobody").get("/domains/alias-domains/add").status_code == 403
