"""SPEC §16, alias domains through the API: `/api/v1/alias-domains` with `name` and `target`.
A name is a domain or an alias domain, never both; an alias domain points at an existing
domain other than itself; bad input is a 4xx naming the field; every change is logged."""

import pytest

from adminpanel.mail import alias_domains
from adminpanel.mail import services as mail
from adminpanel.mail.models import AliasDomain, Domain
from tests.integration.panel import events

pytestmark = pytest.mark.django_db


@pytest.fixture
def example(admin) -> Domain:
    return mail.create_domain(admin, name="example.com")


@pytest.fixture
def org(admin, example) -> AliasDomain:
    return alias_domains.create_alias_domain(admin, name="example.org", target="example.com")


def test_an_alias_domain_is_created_with_both_names_normalized(admin_api, example):
    answer = admin_api.post("/alias-domains", {"name": "Bücher.Example", "target": "EXAMPLE.com"})
    assert answer.status == 201, answer.body
    assert answer.body["name"] == "xn--bcher-kva.example"
    assert answer.body["unicode_name"] == "bücher.example"
    assert (answer.body["target"], answer.body["active"]) == ("example.com", True)
    assert admin_api.get(f"/alias-domains/{answer.body['id']}").body == answer.body


def test_alias_domains_are_listed_in_pages_with_a_total(admin_api, org):
    listed = admin_api.get("/alias-domains")
    assert listed.status == 200
    assert listed.body["total"] == 1
    assert [(a["name"], a["target"]) for a in listed.body["items"]] == [
        ("example.org", "example.com")
    ]
    assert admin_api.get("/alias-domains?search=nothing-like-it").body["total"] == 0


def test_creating_and_deleting_an_alias_domain_is_logged_with_both_names(admin_api, example):
    created = admin_api.post("/alias-domains", {"name": "example.org", "target": "example.com"})
    assert admin_api.delete(f"/alias-domains/{created.body['id']}").status == 204
    assert admin_api.get(f"/alias-domains/{created.body['id']}").status == 404
    (added,) = events("alias_domain_created")
    (deleted,) = events("alias_domain_deleted")
    assert added.actor_name == deleted.actor_name == "admin"
    assert deleted.details == {"alias_domain": "example.org", "target": "example.com"}
    assert Domain.objects.filter(name="example.com").exists()


def test_switching_an_alias_domain_off_is_logged_as_an_edit(admin_api, org):
    answer = admin_api.patch(f"/alias-domains/{org.pk}", {"active": False})
    assert (answer.status, answer.body["active"]) == (200, False)
    (event,) = events("alias_domain_updated")
    assert event.details["edits"] == {"active": {"from": True, "to": False}}


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"name": "example.com", "target": "example.com"}, "target", "itself"),
        ({"name": "example.org", "target": "missing.example"}, "target", "no domain"),
        ({"name": "not a domain", "target": "example.com"}, "name", "not a valid domain"),
        ({"name": "example.org", "target": ""}, "target", "Enter a domain name"),
    ],
)
def test_a_wrong_alias_domain_is_422_naming_the_field(admin_api, example, body, field, says):
    answer = admin_api.post("/alias-domains", body)
    assert (answer.status, answer.error) == (422, "validation_error")
    assert says in answer.body["fields"][field]
    assert not AliasDomain.objects.exists()


def test_an_existing_domain_cannot_also_be_an_alias_domain(admin, admin_api, example):
    mail.create_domain(admin, name="example.net")
    answer = admin_api.post("/alias-domains", {"name": "EXAMPLE.net", "target": "example.com"})
    assert answer.status == 422
    assert "already a domain" in answer.body["fields"]["name"]


def test_a_domain_cannot_be_added_with_the_name_of_an_alias_domain(admin_api, org):
    answer = admin_api.post("/domains", {"name": "Example.ORG"})
    assert answer.status == 422
    assert "already an alias domain" in answer.body["fields"]["name"]
    assert not Domain.objects.filter(name="example.org").exists()


def test_an_alias_domain_name_twice_is_422(admin_api, org):
    answer = admin_api.post("/alias-domains", {"name": "example.org", "target": "example.com"})
    assert answer.status == 422
    assert "already exists" in answer.body["fields"]["name"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": 5, "target": "example.com"},
        {"name": "example.org"},
        {"name": "example.org", "target": ["example.com"]},
        {"name": "example.org", "target": "example.com", "typo": 1},
        {"name": "example.org\x00", "target": "example.com"},
    ],
)
def test_bad_bodies_are_4xx_never_5xx(admin_api, example, body):
    answer = admin_api.post("/alias-domains", body)
    assert 400 <= answer.status < 500 and answer.error, answer
    assert not AliasDomain.objects.exists()


def test_a_domain_with_alias_domains_is_deleted_only_with_cascade_and_takes_them_along(
    admin_api, example, org
):
    refused = admin_api.delete(f"/domains/{example.pk}")
    assert refused.status == 422
    assert "1 alias domain(s)" in refused.body["message"]
    assert AliasDomain.objects.exists()
    assert admin_api.delete(f"/domains/{example.pk}?cascade=true").status == 204
    assert not AliasDomain.objects.exists() and not Domain.objects.exists()
    (event,) = events("domain_deleted")
    assert event.details["alias_domains_deleted"] == ["example.org"]


def test_a_missing_alias_domain_is_404(admin_api):
    for method in ("GET", "DELETE"):
        assert admin_api.call(method, "/alias-domains/999").status == 404
