"""SPEC §2: per section No access / View / Edit / Delete, each level including the ones before.

Table-driven: every level on every section, for every action a page offers. An allowed action
answers 200 (a page) or 302 (done, back to the list) and changes what it says; a refused one
answers 403 and changes nothing.
"""

import re
from dataclasses import dataclass
from typing import Any

import pytest

from adminpanel.accounts.models import Account, Level
from adminpanel.mail.models import Alias, Domain, Mailbox
from tests.integration.panel import (
    MAILBOX_PASSWORD,
    log_in_admin,
    make_subadmin,
    seed_mail,
    signed_in,
    text,
)

pytestmark = pytest.mark.django_db

LEVELS = [Level.NONE, Level.VIEW, Level.EDIT, Level.DELETE]
MAIL_SECTIONS = ["domains", "users", "aliases"]


@dataclass(frozen=True)
class Action:
    name: str
    needs: Level


ACTIONS = [
    Action("list", Level.VIEW),
    Action("view", Level.VIEW),
    Action("add", Level.EDIT),
    Action("edit", Level.EDIT),
    Action("delete", Level.DELETE),
]

ADD = {
    "domains": {"name": "new.example", "active": "on"},
    "users": {
        "address": "new@example.com",
        "password": MAILBOX_PASSWORD,
        "quota_mb": "100",
        "active": "on",
    },
    "aliases": {"address": "new@example.com", "destinations": "x@elsewhere.example"},
}
EDIT = {
    "domains": {"catch_all": "", "active": ""},  # deactivate
    "users": {"display_name": "Changed", "quota_mb": "200", "active": "on"},
    "aliases": {"destinations": "changed@elsewhere.example", "active": "on"},
}


def _target(section: str, data: dict, action: str):
    """The object an action works on; a domain is deleted only when it is empty."""
    if section == "domains":
        return data["spare"] if action == "delete" else data["domain"]
    return data["mailbox" if section == "users" else "alias"]


def _added(section: str) -> bool:
    if section == "domains":
        return Domain.objects.filter(name="new.example").exists()
    model = Mailbox if section == "users" else Alias
    return model.objects.filter(local_part="new").exists()


def _edited(section: str, obj: Any) -> bool:
    obj.refresh_from_db()
    if section == "domains":
        return obj.active is False
    if section == "users":
        return obj.display_name == "Changed"
    return obj.destinations == ["changed@elsewhere.example"]


def _perform(client, section: str, action: str, obj) -> tuple[int, bool]:
    """(status, whether the data shows the action's effect)."""
    url = f"/{section}"
    if action == "list":
        return client.get(url).status_code, False
    if action == "view":
        return client.get(f"{url}/{obj.pk}").status_code, False
    if action == "add":
        return client.post(f"{url}/add", ADD[section]).status_code, _added(section)
    if action == "edit":
        status = client.post(f"{url}/{obj.pk}", EDIT[section]).status_code
        return status, _edited(section, obj)
    status = client.post(f"{url}/{obj.pk}/delete").status_code
    return status, not type(obj).objects.filter(pk=obj.pk).exists()


@pytest.fixture
def data(admin) -> dict:
    return seed_mail(admin)


def _case_id(section: str, level: Level, action: Action) -> str:
    return f"{section}-{level.label.replace(' ', '')}-{action.name}"


MAIL_CASES = [
    pytest.param(section, level, action, id=_case_id(section, level, action))
    for section in MAIL_SECTIONS
    for level in LEVELS
    for action in ACTIONS
]


@pytest.mark.parametrize(("section", "level", "action"), MAIL_CASES)
def test_each_level_allows_exactly_the_actions_it_includes(admin, data, section, level, action):
    make_subadmin(admin, levels={section: level})
    client = signed_in("sub")
    obj = _target(section, data, action.name)
    status, changed = _perform(client, section, action.name, obj)
    if level >= action.needs:
        assert status in (200, 302)
        assert changed or action.name in ("list", "view")
    else:
        assert status == 403
        assert not changed


@pytest.mark.parametrize("section", MAIL_SECTIONS)
@pytest.mark.parametrize("action", ["add", "edit", "delete", "view"])
def test_the_admin_may_do_everything(admin, data, section, action):
    client = log_in_admin()
    status, changed = _perform(client, section, action, _target(section, data, action))
    assert status in (200, 302)
    assert changed or action == "view"


@pytest.mark.parametrize("section", MAIL_SECTIONS)
@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.label)
def test_the_add_and_delete_pages_open_only_with_their_level(admin, data, section, level):
    make_subadmin(admin, levels={section: level})
    client = signed_in("sub")
    obj = _target(section, data, "delete")
    add_page = client.get(f"/{section}/add").status_code
    delete_page = client.get(f"/{section}/{obj.pk}/delete").status_code
    assert add_page == (200 if level >= Level.EDIT else 403)
    assert delete_page == (200 if level >= Level.DELETE else 403)


@pytest.mark.parametrize("url", ["/logs", "/logs.csv"])
@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.label)
def test_the_logs_need_logs_view(admin, level, url):
    make_subadmin(admin, levels={"logs": level})
    response = signed_in("sub").get(url)
    assert response.status_code == (200 if level >= Level.VIEW else 403)


def test_a_level_in_one_section_gives_nothing_in_another(admin, data):
    make_subadmin(admin, levels={"domains": Level.DELETE})
    client = signed_in("sub")
    assert client.get("/domains").status_code == 200
    for url in ("/users", "/aliases", "/logs", f"/users/{data['mailbox'].pk}"):
        assert client.get(url).status_code == 403, url


def test_the_403_page_says_which_permission_is_missing_and_who_can_give_it(admin, data):
    make_subadmin(admin)
    response = signed_in("sub").get("/domains")
    assert response.status_code == 403
    page = text(response)
    assert "This needs Domains: View (or more) for your account." in page
    assert "The Admin can change that (Sub-Admins)." in page


# --- what the pages offer ------------------------------------------------------------------


def _main_menu(response) -> list[str]:
    nav = re.search(r'<nav class="menu" aria-label="Main">(.*?)</nav>', text(response), re.S)
    assert nav, "no main menu"
    return re.findall(r'href="(/[^"]*)"', nav.group(1))


@pytest.mark.parametrize("section", ["domains", "users", "aliases", "logs"])
@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.label)
def test_the_menu_shows_a_section_only_from_view_up(admin, section, level):
    make_subadmin(admin, levels={section: level})
    menu = _main_menu(signed_in("sub").get("/"))
    assert (f"/{section}" in menu) == (level >= Level.VIEW)
    others = {"/domains", "/users", "/aliases", "/logs"} - {f"/{section}"}
    assert not others & set(menu)


def test_the_menu_of_a_sub_admin_has_no_sub_admins_entry(admin):
    everything = {s: Level.DELETE for s in ("domains", "users", "aliases", "logs")}
    make_subadmin(admin, levels=everything)
    assert "/subadmins" not in _main_menu(signed_in("sub").get("/"))


def test_the_menu_of_the_admin_has_every_section_and_sub_admins(admin):
    menu = _main_menu(log_in_admin().get("/"))
    for url in ("/domains", "/users", "/aliases", "/logs", "/subadmins"):
        assert url in menu


@pytest.mark.parametrize("section", MAIL_SECTIONS)
@pytest.mark.parametrize("level", LEVELS[1:], ids=lambda level: level.label)
def test_the_list_offers_add_from_edit_and_delete_from_delete(admin, data, section, level):
    make_subadmin(admin, levels={section: level})
    page = text(signed_in("sub").get(f"/{section}"))
    assert (f'href="/{section}/add"' in page) == (level >= Level.EDIT)
    assert ('/delete">Delete' in page) == (level >= Level.DELETE)


@pytest.mark.parametrize("section", MAIL_SECTIONS)
def test_a_view_only_account_sees_a_read_only_form_without_save(admin, data, section):
    make_subadmin(admin, levels={section: Level.VIEW})
    obj = _target(section, data, "edit")
    page = text(signed_in("sub").get(f"/{section}/{obj.pk}"))
    assert ">Save</button>" not in page
    inputs = re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
    fields = [i for i in inputs if 'name="csrfmiddlewaretoken"' not in i and "search" not in i]
    assert fields and all(" disabled" in i for i in fields)


# --- Sub-Admins are the Admin's alone ------------------------------------------------------

SUBADMIN_PAGES = [
    ("get", "/subadmins"),
    ("get", "/subadmins/add"),
    ("post", "/subadmins/add"),
    ("get", "/subadmins/{pk}"),
    ("post", "/subadmins/{pk}"),
    ("post", "/subadmins/{pk}/reset-2fa"),
    ("get", "/subadmins/{pk}/delete"),
    ("post", "/subadmins/{pk}/delete"),
]


@pytest.mark.parametrize(("method", "url"), SUBADMIN_PAGES)
def test_a_sub_admin_with_every_right_cannot_manage_sub_admins(admin, method, url):
    everything = {s: Level.DELETE for s in ("domains", "users", "aliases", "logs")}
    make_subadmin(admin, levels=everything)
    other = make_subadmin(admin, "other")
    client = signed_in("sub")
    response = getattr(client, method)(url.format(pk=other.pk), {"username": "evil"})
    assert response.status_code == 403
    assert Account.objects.filter(username="other").exists()
    assert not Account.objects.filter(username="evil").exists()


def test_a_sub_admin_cannot_edit_itself_into_more_rights(admin):
    me = make_subadmin(admin, levels={"domains": Level.VIEW})
    client = signed_in("sub")
    form = {
        "username": "sub",
        "active": "on",
        "web_access": "on",
        "api_access": "on",
        "domains": "3",
        "users": "3",
        "aliases": "3",
        "logs": "3",
    }
    assert client.post(f"/subadmins/{me.pk}", form).status_code == 403
    me.refresh_from_db()
    assert (me.domains, me.users, me.api_access) == (Level.VIEW, Level.NONE, False)


def test_a_viewer_adding_is_told_it_needs_edit(admin):
    make_subadmin(admin, "viewer", web_access=True, levels={"users": Level.VIEW})
    response = signed_in("viewer").get("/users/add")
    assert response.status_code == 403
    assert "This needs Users: Edit (or more) for your account." in text(response)
