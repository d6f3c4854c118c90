"""Every permission level on every resource (SPEC §2): No access < View < Edit < Delete."""

from dataclasses import dataclass
from typing import Any

import pytest

from adminpanel import clock as panel_clock
from adminpanel.accounts.models import Level
from adminpanel.api import services as api_services
from adminpanel.mail import alias_domains
from adminpanel.mail import services as mail
from tests.api.client import Api

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Call:
    """One API call on a section and the level it needs."""

    section: str
    action: str
    needs: Level
    method: str
    path: str
    body: Any = None


CALLS = [
    Call("domains", "list", Level.VIEW, "GET", "/domains"),
    Call("domains", "read", Level.VIEW, "GET", "/domains/{domain}"),
    Call("domains", "create", Level.EDIT, "POST", "/domains", {"name": "new.example"}),
    Call("domains", "update", Level.EDIT, "PATCH", "/domains/{domain}", {"active": False}),
    Call("domains", "delete", Level.DELETE, "DELETE", "/domains/{empty_domain}"),
    Call("domains", "list alias domains", Level.VIEW, "GET", "/alias-domains"),
    Call("domains", "read an alias domain", Level.VIEW, "GET", "/alias-domains/{alias_domain}"),
    Call(
        "domains",
        "create an alias domain",
        Level.EDIT,
        "POST",
        "/alias-domains",
        {"name": "example.net", "target": "example.com"},
    ),
    Call(
        "domains",
        "update an alias domain",
        Level.EDIT,
        "PATCH",
        "/alias-domains/{alias_domain}",
        {"active": False},
    ),
    Call(
        "domains", "delete an alias domain", Level.DELETE, "DELETE", "/alias-domains/{alias_domain}"
    ),
    Call("users", "list", Level.VIEW, "GET", "/users"),
    Call("users", "read", Level.VIEW, "GET", "/users/{user}"),
    Call(
        "users",
        "create",
        Level.EDIT,
        "POST",
        "/users",
        {"address": "bob@example.com", "password": "a-long-mailbox-passphrase"},
    ),
    Call("users", "update", Level.EDIT, "PATCH", "/users/{user}", {"quota_mb": 2048}),
    Call("users", "delete", Level.DELETE, "DELETE", "/users/{user}"),
    Call("aliases", "list", Level.VIEW, "GET", "/aliases"),
    Call("aliases", "read", Level.VIEW, "GET", "/aliases/{alias}"),
    Call(
        "aliases",
        "create",
        Level.EDIT,
        "POST",
        "/aliases",
        {"address": "sales@example.com", "destinations": ["alice@example.com"]},
    ),
    Call("aliases", "update", Level.EDIT, "PATCH", "/aliases/{alias}", {"active": False}),
    Call("aliases", "delete", Level.DELETE, "DELETE", "/aliases/{alias}"),
    Call("logs", "list", Level.VIEW, "GET", "/logs"),
]
SECTIONS = ("domains", "users", "aliases", "logs")
# One Sub-Admin per (section, level); its calls run in the table's order (create before
# update before delete), and every mismatch is reported at once.
TABLE = [
    pytest.param(section, level, id=f"{section}-{level.label}")
    for section in SECTIONS
    for level in Level
]
SUBADMIN_CALLS = [
    ("GET", "/subadmins", None),
    ("POST", "/subadmins", {"username": "another", "password": "a-long-passphrase-here"}),
    ("GET", "/subadmins/{robot}", None),
    ("PATCH", "/subadmins/{robot}", {"active": False}),
    ("POST", "/subadmins/{robot}/reset-2fa", None),
    ("DELETE", "/subadmins/{robot}", None),
]


@pytest.fixture
def objects(admin) -> dict[str, int]:
    """A domain with a mailbox, an alias and an alias domain, and an empty domain, made by the
    Admin."""
    domain = mail.create_domain(admin, name="example.com")
    empty = mail.create_domain(admin, name="empty.example")
    user = mail.create_mailbox(admin, address="alice@example.com", password="a-long-passphrase-1")
    alias = mail.create_alias(admin, address="info@example.com", destinations=["alice@example.com"])
    org = alias_domains.create_alias_domain(admin, name="example.org", target="example.com")
    return {
        "domain": domain.pk,
        "empty_domain": empty.pk,
        "user": user.pk,
        "alias": alias.pk,
        "alias_domain": org.pk,
    }


def token_for(account) -> str:
    # Built through the token service directly, so the table costs no password hashing per row.
    return api_services.issue_token(account, now=panel_clock.now()).token


def run(client: Api, calls: list[Call], objects: dict[str, int], expect) -> list[str]:
    """Make the calls; return a line for each answer that is not the expected one."""
    wrong = []
    for call in calls:
        answer = client.call(call.method, call.path.format(**objects), call.body)
        allowed = expect(call)
        ok = (
            answer.status in (200, 201, 204)
            if allowed
            else answer.status == 403 and answer.error == "permission_denied"
        )
        if not ok:
            wrong.append(f"{call.method} {call.path}: {answer.status} {answer.body}")
    return wrong


@pytest.mark.parametrize(("section", "level"), TABLE)
def test_a_subadmin_may_do_exactly_what_its_level_allows(make_subadmin, objects, section, level):
    robot = make_subadmin("robot", levels={section: level.value})
    client = Api()
    client.token = token_for(robot)
    calls = [call for call in CALLS if call.section == section]
    assert run(client, calls, objects, lambda call: level >= call.needs) == []


@pytest.mark.parametrize("section", SECTIONS)
def test_a_level_on_other_sections_gives_nothing_on_this_one(make_subadmin, objects, section):
    levels = {s: Level.DELETE.value for s in SECTIONS}
    levels[section] = Level.NONE.value
    client = Api()
    client.token = token_for(make_subadmin("robot", levels=levels))
    calls = [call for call in CALLS if call.section == section]
    assert run(client, calls, objects, lambda call: False) == []


def test_only_the_admin_manages_subadmins(make_subadmin):
    boss = make_subadmin("boss", levels={s: Level.DELETE.value for s in SECTIONS}, web_access=True)
    robot = make_subadmin("robot")
    client = Api()
    client.token = token_for(boss)
    for method, path, body in SUBADMIN_CALLS:
        answer = client.call(method, path.format(robot=robot.pk), body)
        assert (answer.status, answer.error) == (403, "permission_denied"), (method, path)


def test_the_admin_manages_subadmins(admin_api, make_subadmin):
    robot = make_subadmin("robot")
    for method, path, body in SUBADMIN_CALLS:
        answer = admin_api.call(method, path.format(robot=robot.pk), body)
        assert answer.status in (200, 201, 204), (method, path, answer)


def test_the_admin_may_do_everything(admin_api, objects):
    for call in CALLS:
        answer = admin_api.call(call.method, call.path.format(**objects), call.body)
        assert answer.status in (200, 201, 204), (call, answer)


def test_cascading_a_domain_delete_needs_delete_on_users_and_aliases_too(make_subadmin, objects):
    robot = make_subadmin("robot", levels={"domains": Level.DELETE.value})
    client = Api()
    client.token = token_for(robot)
    answer = client.delete(f"/domains/{objects['domain']}?cascade=true")
    assert answer.status == 403
    assert answer.error == "permission_denied"
