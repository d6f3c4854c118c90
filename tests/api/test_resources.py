"""Domains, users, aliases, logs and Sub-Admins through the API (SPEC §6, §7, §8)."""

from datetime import timedelta

import pytest

from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from adminpanel.mail import services as mail
from adminpanel.mail.models import Alias, Domain, Mailbox
from adminpanel.twofactor.interface import is_enabled
from tests.api.client import API_IP, PASSWORD, Api

pytestmark = pytest.mark.django_db

MAILBOX_PASSWORD = "a-long-mailbox-passphrase"


@pytest.fixture
def example(admin) -> Domain:
    return mail.create_domain(admin, name="example.com")


# --- domains -----------------------------------------------------------------------------


def test_a_domain_is_created_with_its_name_normalized(admin_api):
    answer = admin_api.post("/domains", {"name": "Bücher.Example"})
    assert answer.status == 201
    assert answer.body["name"] == "xn--bcher-kva.example"
    assert answer.body["unicode_name"] == "bücher.example"
    assert answer.body["active"] is True
    assert admin_api.get(f"/domains/{answer.body['id']}").body == answer.body


def test_a_domain_name_twice_is_422_naming_the_field(admin_api, example):
    answer = admin_api.post("/domains", {"name": "EXAMPLE.com"})
    assert answer.status == 422
    assert answer.error == "validation_error"
    assert "name" in answer.body["fields"]


def test_an_invalid_domain_name_is_422_naming_the_field(admin_api):
    answer = admin_api.post("/domains", {"name": "not a domain"})
    assert (answer.status, list(answer.body["fields"])) == (422, ["name"])


def test_domains_are_listed_in_pages_with_a_total(admin, admin_api):
    for n in range(5):
        mail.create_domain(admin, name=f"d{n}.example")
    first = admin_api.get("/domains?limit=2")
    assert first.body["total"] == 5
    assert [d["name"] for d in first.body["items"]] == ["d0.example", "d1.example"]
    last = admin_api.get("/domains?limit=2&offset=4")
    assert [d["name"] for d in last.body["items"]] == ["d4.example"]
    assert admin_api.get("/domains?offset=99").body["items"] == []


def test_the_page_size_has_a_maximum(admin_api):
    answer = admin_api.get("/domains?limit=201")
    assert (answer.status, list(answer.body["fields"])) == (422, ["limit"])
    assert admin_api.get("/domains?limit=200").status == 200


def test_domains_are_searched_also_by_their_unicode_name(admin, admin_api):
    mail.create_domain(admin, name="bücher.example")
    mail.create_domain(admin, name="other.example")
    found = admin_api.get("/domains", data={"search": "Bücher.example"})
    assert [d["unicode_name"] for d in found.body["items"]] == ["bücher.example"]


def test_a_domain_is_updated(admin_api, example):
    answer = admin_api.patch(
        f"/domains/{example.pk}", {"active": False, "catch_all": "postmaster@example.com"}
    )
    assert answer.status == 200
    assert (answer.body["active"], answer.body["catch_all"]) == (False, "postmaster@example.com")


def test_an_unknown_domain_is_404(admin_api):
    for answer in (
        admin_api.get("/domains/999"),
        admin_api.patch("/domains/999", {"active": False}),
        admin_api.delete("/domains/999"),
        admin_api.get(f"/domains/{2**70}"),
    ):
        assert (answer.status, answer.error) == (404, "not_found")


def test_a_domain_with_mailboxes_is_deleted_only_with_cascade(admin, admin_api, example):
    mail.create_mailbox(admin, address="alice@example.com", password=MAILBOX_PASSWORD)
    refused = admin_api.delete(f"/domains/{example.pk}")
    assert refused.status == 422
    assert "cascade" in refused.body["fields"]
    assert admin_api.delete(f"/domains/{example.pk}?cascade=true").status == 204
    assert not Domain.objects.exists() and not Mailbox.objects.exists()


# --- users -------------------------------------------------------------------------------


def test_a_user_is_created_on_an_existing_domain(admin_api, example):
    answer = admin_api.post(
        "/users",
        {
            "address": "alice@example.com",
            "password": MAILBOX_PASSWORD,
            "display_name": "Alice Ünïcødé 🚀",
            "quota_mb": 2048,
        },
    )
    assert answer.status == 201
    assert answer.body["address"] == "alice@example.com"
    assert answer.body["display_name"] == "Alice Ünïcødé 🚀"
    assert answer.body["quota_mb"] == 2048
    assert "password" not in answer.body and MAILBOX_PASSWORD not in str(answer.body)
    assert Mailbox.objects.get().password_hash.startswith("argon2")


def test_a_user_on_an_unknown_domain_is_422_naming_the_address(admin_api):
    answer = admin_api.post(
        "/users", {"address": "alice@nowhere.example", "password": MAILBOX_PASSWORD}
    )
    assert (answer.status, list(answer.body["fields"])) == (422, ["address"])


def test_a_weak_mailbox_password_is_422_naming_the_password(admin_api, example):
    answer = admin_api.post("/users", {"address": "alice@example.com", "password": "short"})
    assert (answer.status, list(answer.body["fields"])) == (422, ["password"])


def test_users_are_filtered_by_domain_and_search(admin, admin_api, example):
    mail.create_domain(admin, name="other.example")
    for address in ("alice@example.com", "bob@example.com", "alice@other.example"):
        mail.create_mailbox(admin, address=address, password=MAILBOX_PASSWORD)
    by_domain = admin_api.get("/users?domain=example.com").body
    assert [u["address"] for u in by_domain["items"]] == ["alice@example.com", "bob@example.com"]
    searched = admin_api.get("/users?search=alice").body
    assert searched["total"] == 2


def test_a_user_is_updated_and_deleted(admin, admin_api, example):
    user = mail.create_mailbox(admin, address="alice@example.com", password=MAILBOX_PASSWORD)
    changed = admin_api.patch(f"/users/{user.pk}", {"quota_mb": 10, "active": False})
    assert (changed.body["quota_mb"], changed.body["active"]) == (10, False)
    bad = admin_api.patch(f"/users/{user.pk}", {"quota_mb": 0})
    assert (bad.status, list(bad.body["fields"])) == (422, ["quota_mb"])
    assert admin_api.delete(f"/users/{user.pk}").status == 204
    assert admin_api.get(f"/users/{user.pk}").status == 404


# --- aliases -----------------------------------------------------------------------------


def test_an_alias_is_created_updated_and_deleted(admin_api, example):
    created = admin_api.post(
        "/aliases", {"address": "info@example.com", "destinations": ["a@example.org"]}
    )
    assert created.status == 201
    assert created.body["destinations"] == ["a@example.org"]
    alias_id = created.body["id"]
    changed = admin_api.patch(f"/aliases/{alias_id}", {"destinations": ["b@example.org"]})
    assert changed.body["destinations"] == ["b@example.org"]
    assert admin_api.get("/aliases?domain=example.com").body["total"] == 1
    assert admin_api.delete(f"/aliases/{alias_id}").status == 204
    assert not Alias.objects.exists()


def test_an_alias_answer_warns_of_local_destinations_that_cannot_receive(admin_api, example):
    created = admin_api.post(
        "/aliases",
        {"address": "info@example.com", "destinations": ["typo@example.com", "a@example.org"]},
    )
    assert created.status == 201
    assert created.body["warnings"] == [
        "typo@example.com is neither a mailbox nor an alias of example.com: "
        "mail to it would be refused."
    ]
    changed = admin_api.patch(f"/aliases/{created.body['id']}", {"destinations": ["a@example.org"]})
    assert changed.status == 200 and changed.body["warnings"] == []


def test_an_alias_loop_is_422_naming_the_destinations(admin_api, example):
    first = {"address": "a@example.com", "destinations": ["b@example.com"]}
    assert admin_api.post("/aliases", first).status == 201
    looped = admin_api.post(
        "/aliases", {"address": "b@example.com", "destinations": ["a@example.com"]}
    )
    assert looped.status == 422
    assert "destinations" in looped.body["fields"]
    assert not Alias.objects.filter(lookup_address="b@example.com").exists()


def test_an_alias_may_not_shadow_a_user(admin, admin_api, example):
    mail.create_mailbox(admin, address="alice@example.com", password=MAILBOX_PASSWORD)
    answer = admin_api.post(
        "/aliases", {"address": "alice@example.com", "destinations": ["a@example.org"]}
    )
    assert (answer.status, list(answer.body["fields"])) == (422, ["address"])


def test_an_alias_needs_destinations(admin_api, example):
    answer = admin_api.post("/aliases", {"address": "info@example.com", "destinations": []})
    assert (answer.status, list(answer.body["fields"])) == (422, ["destinations"])


# --- logs --------------------------------------------------------------------------------


def test_the_log_is_filtered_by_time_actor_and_event(admin, admin_api, clock, make_subadmin):
    make_subadmin("robot", levels={"domains": 2})
    robot = Api()
    robot.login("robot")
    clock.advance(minutes=10)
    robot.post("/domains", {"name": "example.net"})
    everything = admin_api.get("/logs").body
    assert everything["total"] >= 4
    by_actor = admin_api.get("/logs?actor=ROBOT").body["items"]
    assert {e["event"] for e in by_actor} == {"api_login", "domain_created"}
    by_event = admin_api.get("/logs?event=domain_created").body["items"]
    assert [e["details"]["domain"] for e in by_event] == ["example.net"]
    since = (clock() - timedelta(minutes=1)).isoformat()
    recent = admin_api.get("/logs", data={"since": since}).body["items"]
    assert [e["event"] for e in recent] == ["domain_created"]
    until = admin_api.get("/logs", data={"until": since, "actor": "robot"}).body["items"]
    assert [e["event"] for e in until] == ["api_login"]


def test_a_naive_time_in_a_log_filter_is_read_as_utc(admin_api, clock):
    since = (clock() + timedelta(minutes=5)).replace(tzinfo=None).isoformat()
    assert admin_api.get("/logs", data={"since": since}).body["total"] == 0


def test_a_bad_time_in_a_log_filter_is_422_naming_it(admin_api):
    answer = admin_api.get("/logs?since=yesterday")
    assert (answer.status, list(answer.body["fields"])) == (422, ["since"])


def test_api_data_changes_are_logged_with_the_api_client(make_subadmin):
    make_subadmin("robot", levels={"domains": 3}, allowed_ips=["203.0.113.0/24"])
    robot = Api(ip=API_IP)
    robot.login("robot", headers={"User-Agent": "robot/2"})
    created = robot.post("/domains", {"name": "example.net"}, headers={"User-Agent": "robot/2"})
    robot.delete(f"/domains/{created.body['id']}")
    events = {e.event: e for e in Event.objects.filter(actor_name="robot")}
    assert {"api_login", "domain_created", "domain_deleted"} <= set(events)
    assert (events["domain_created"].ip, events["domain_created"].user_agent) == (API_IP, "robot/2")


# --- Sub-Admins --------------------------------------------------------------------------


def test_a_subadmin_is_created_with_a_warning_when_its_api_is_open_to_any_ip(admin_api):
    answer = admin_api.post(
        "/subadmins",
        {
            "username": "deploy-bot",
            "password": PASSWORD,
            "access": {"admin_panel": False, "api": True},
            "permissions": {"domains": "edit", "logs": "view"},
        },
    )
    assert answer.status == 201
    body = answer.body
    assert body["username"] == "deploy-bot"
    assert body["access"] == {"admin_panel": False, "api": True}
    assert body["permissions"] == {
        "domains": "edit",
        "users": "none",
        "aliases": "none",
        "logs": "view",
    }
    assert any("any IP address" in w for w in body["warnings"])
    assert "password" not in body and PASSWORD not in str(body)


def test_a_subadmin_restricted_to_known_ips_gets_no_warning(admin_api):
    answer = admin_api.post(
        "/subadmins",
        {
            "username": "deploy-bot",
            "password": PASSWORD,
            "access": {"admin_panel": False, "api": True},
            "allowed_ips": ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"],
        },
    )
    assert answer.body["warnings"] == []
    assert answer.body["allowed_ips"] == ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"allowed_ips": ["not-an-ip"]}, "allowed_ips"),
        ({"username": "x"}, "username"),
        ({"username": "admin"}, "username"),
        ({"password": "password"}, "password"),
        ({"access": {"admin_panel": False, "api": False}}, "access"),
        ({"permissions": {"domains": "owner"}}, "permissions.domains"),
        ({"permissions": {"mailboxes": "view"}}, "permissions.mailboxes"),
    ],
)
def test_a_bad_subadmin_is_422_naming_the_field(admin_api, change, field):
    body = {"username": "deploy-bot", "password": PASSWORD, **change}
    answer = admin_api.post("/subadmins", body)
    assert answer.status == 422, answer
    assert field in answer.body["fields"]


def test_subadmins_are_listed_read_updated_and_deleted(admin_api, make_subadmin):
    robot = make_subadmin("robot")
    make_subadmin("other-bot")
    listed = admin_api.get("/subadmins?search=rob").body
    assert [s["username"] for s in listed["items"]] == ["robot"]
    assert admin_api.get(f"/subadmins/{robot.pk}").body["two_factor_enabled"] is False
    changed = admin_api.patch(
        f"/subadmins/{robot.pk}",
        {"username": "robot2", "allowed_ips": ["192.0.2.0/24"], "permissions": {"users": "view"}},
    )
    assert changed.status == 200
    assert (changed.body["username"], changed.body["permissions"]["users"]) == ("robot2", "view")
    assert changed.body["warnings"] == []
    assert admin_api.delete(f"/subadmins/{robot.pk}").status == 204
    assert admin_api.get(f"/subadmins/{robot.pk}").status == 404


def test_the_admin_is_not_a_subadmin(admin, admin_api):
    assert admin_api.get(f"/subadmins/{admin.pk}").status == 404
    assert admin_api.delete(f"/subadmins/{admin.pk}").status == 404
    assert admin_api.get("/subadmins").body["total"] == 0


def test_the_admin_resets_a_subadmins_2fa(admin_api, make_subadmin, enable_2fa):
    person = make_subadmin("person", web_access=True, api_access=False)
    enable_2fa(person)
    assert admin_api.get(f"/subadmins/{person.pk}").body["two_factor_enabled"] is True
    answer = admin_api.post(f"/subadmins/{person.pk}/reset-2fa")
    assert answer.status == 200
    assert answer.body["two_factor_enabled"] is False
    assert not is_enabled(Account.objects.get(pk=person.pk))
    assert Event.objects.filter(event="2fa_reset", actor_name="admin").exists()


def test_a_subadmin_with_api_access_and_2fa_gets_a_warning(admin_api, make_subadmin, enable_2fa):
    person = make_subadmin("person", web_access=True, api_access=False, allowed_ips=["192.0.2.1"])
    enable_2fa(person)
    answer = admin_api.patch(f"/subadmins/{person.pk}", {"access": {"api": True}})
    assert any("2FA enabled" in w for w in answer.body["warnings"])
