"""SPEC §16 through the API: Sign-in allowed, rename, delete with a grace period, Restore and
Purge now. What the mail servers then do is in tests/mailserver/test_mailbox_life.py."""

from datetime import timedelta

import pytest
from django.db import connection

from adminpanel import clock
from adminpanel.accounts.models import Level
from adminpanel.audit.models import Event
from adminpanel.mail.models import Alias, Mailbox
from adminpanel.mailserver.models import PurgedMaildir
from tests.api.client import Api

pytestmark = pytest.mark.django_db

PASSWORD = "Mailbox-Cobalt-Harbor-27"


@pytest.fixture
def domain(admin_api) -> str:
    assert admin_api.post("/domains", {"name": "example.com"}).status == 201
    return "example.com"


def add(api, address: str, **fields) -> dict:
    answer = api.post("/users", {"address": address, "password": PASSWORD, **fields})
    assert answer.status == 201, answer.body
    return answer.body


def view_rows(view: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {view}")  # noqa: S608 - fixed names
        return cursor.fetchall()


def mail_view_addresses() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM mailserver_mailboxes ORDER BY 1")
        return [row[0] for row in cursor.fetchall()]


def test_sign_in_allowed_is_on_by_default_and_can_be_turned_off(admin_api, domain):
    anna = add(admin_api, "anna@example.com")
    assert anna["sign_in_allowed"] is True
    answer = admin_api.patch(f"/users/{anna['id']}", {"sign_in_allowed": False})
    assert (answer.status, answer.body["sign_in_allowed"]) == (200, False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT active, sign_in_allowed FROM mailserver_mailboxes")
        assert [tuple(map(bool, row)) for row in cursor.fetchall()] == [(True, False)]
    (event,) = Event.objects.filter(event="mailbox_updated")
    assert event.details["changed"] == ["sign_in_allowed"]


def test_a_deleted_mailbox_leaves_the_mail_servers_at_once_and_waits_under_deleted(
    admin_api, domain
):
    anna = add(admin_api, "anna@example.com")
    assert admin_api.delete(f"/users/{anna['id']}").status == 204
    assert mail_view_addresses() == []
    assert admin_api.get(f"/users/{anna['id']}").status == 404
    (listed,) = admin_api.get("/users/deleted").body["items"]
    assert listed["id"] == anna["id"] and listed["address"] == "anna@example.com"
    assert listed["restorable"] is True
    kept = Mailbox.with_deleted.get(pk=anna["id"])
    assert kept.purge_after - kept.deleted_at == timedelta(days=30)


def test_restore_brings_the_mailbox_back_with_its_id_and_maildir(admin_api, domain):
    anna = add(admin_api, "anna@example.com")
    maildir = Mailbox.objects.get(pk=anna["id"]).maildir
    admin_api.delete(f"/users/{anna['id']}")
    answer = admin_api.post(f"/users/{anna['id']}/restore")
    assert (answer.status, answer.body["address"], answer.body["id"]) == (
        200,
        "anna@example.com",
        anna["id"],
    )
    assert Mailbox.objects.get(pk=anna["id"]).maildir == maildir
    assert mail_view_addresses() == ["anna@example.com"]
    assert admin_api.get("/users/deleted").body["items"] == []
    assert Event.objects.filter(event="mailbox_restored").count() == 1


def test_an_address_taken_again_gets_a_new_maildir_and_restore_is_refused_clearly(
    admin_api, domain
):
    first = add(admin_api, "anna@example.com")
    admin_api.delete(f"/users/{first['id']}")
    second = add(admin_api, "Anna@example.com")
    maildirs = {Mailbox.with_deleted.get(pk=m["id"]).maildir for m in (first, second)}
    assert len(maildirs) == 2
    answer = admin_api.post(f"/users/{first['id']}/restore")
    assert answer.status == 422
    assert "has been given to another mailbox or alias" in answer.body["message"]
    assert Mailbox.with_deleted.get(pk=first["id"]).deleted_at is not None


def test_purge_now_makes_the_mail_due_and_restore_impossible(admin_api, domain):
    anna = add(admin_api, "anna@example.com")
    maildir = Mailbox.objects.get(pk=anna["id"]).maildir
    admin_api.delete(f"/users/{anna['id']}")
    assert admin_api.delete(f"/users/deleted/{anna['id']}").status == 204
    (listed,) = admin_api.get("/users/deleted").body["items"]
    assert listed["restorable"] is False
    answer = admin_api.post(f"/users/{anna['id']}/restore")
    assert answer.status == 422 and "being purged" in answer.body["message"]
    # The mail host's purge finds it due (the view compares with the database's clock).
    with connection.cursor() as cursor:
        cursor.execute("UPDATE mail_mailbox SET purge_after = %s", [clock.now() - timedelta(1)])
    assert view_rows("mailserver_purge") == [(maildir,)]


def test_once_the_mail_host_has_purged_it_the_mailbox_is_forgotten_and_logged(admin_api, domain):
    anna = add(admin_api, "anna@example.com")
    maildir = Mailbox.objects.get(pk=anna["id"]).maildir
    admin_api.delete(f"/users/{anna['id']}")
    PurgedMaildir.objects.create(maildir=maildir, purged_at=clock.now())
    assert view_rows("mailserver_purge") == []
    assert admin_api.get("/users/deleted").body["items"] == []
    assert not Mailbox.with_deleted.filter(pk=anna["id"]).exists()
    assert not PurgedMaildir.objects.exists()
    (event,) = Event.objects.filter(event="mailbox_purged")
    assert event.details["address"] == "anna@example.com" and event.actor_name == "mail host"
    assert admin_api.post(f"/users/{anna['id']}/restore").status == 404


def test_a_mailbox_not_yet_due_is_not_in_the_purge_view(admin_api, domain):
    anna = add(admin_api, "anna@example.com")
    admin_api.delete(f"/users/{anna['id']}")
    assert view_rows("mailserver_purge") == []


def test_rename_keeps_the_id_and_maildir_and_can_keep_the_old_address_as_an_alias(
    admin_api, domain
):
    anna = add(admin_api, "anna@example.com")
    maildir = Mailbox.objects.get(pk=anna["id"]).maildir
    answer = admin_api.patch(
        f"/users/{anna['id']}",
        {"address": "anna.berg@example.com", "keep_old_address_as_alias": True},
    )
    assert (answer.status, answer.body["address"]) == (200, "anna.berg@example.com")
    assert Mailbox.objects.get(pk=anna["id"]).maildir == maildir
    alias = Alias.objects.get()
    assert (alias.address, alias.destinations) == ("anna@example.com", ["anna.berg@example.com"])
    (event,) = Event.objects.filter(event="mailbox_renamed")
    assert event.details["old_address"] == "anna@example.com"
    assert event.details["address"] == "anna.berg@example.com"


def test_rename_to_a_taken_address_or_a_missing_domain_changes_nothing(admin_api, domain):
    anna = add(admin_api, "anna@example.com")
    add(admin_api, "bob@example.com")
    for address in ["Bob@example.com", "anna@nowhere.example", "a/b@example.com", "no-at"]:
        answer = admin_api.patch(
            f"/users/{anna['id']}", {"address": address, "keep_old_address_as_alias": True}
        )
        assert (answer.status, list(answer.body["fields"])) == (422, ["address"]), address
    assert Mailbox.objects.get(pk=anna["id"]).address == "anna@example.com"
    assert not Alias.objects.exists()


def test_rename_only_the_case_of_the_local_part_needs_no_alias(admin_api, domain):
    anna = add(admin_api, "anna@example.com")
    answer = admin_api.patch(
        f"/users/{anna['id']}", {"address": "Anna@example.com", "keep_old_address_as_alias": True}
    )
    assert (answer.status, answer.body["address"]) == (200, "Anna@example.com")
    assert not Alias.objects.exists()


def test_deleting_a_domain_keeps_its_mailboxes_mail_until_the_domain_is_back(admin_api, domain):
    anna = add(admin_api, "anna@example.com")
    domain_id = admin_api.get("/domains").body["items"][0]["id"]
    assert admin_api.delete(f"/domains/{domain_id}?cascade=true").status == 204
    (listed,) = admin_api.get("/users/deleted").body["items"]
    assert listed["address"] == "anna@example.com"
    answer = admin_api.post(f"/users/{anna['id']}/restore")
    assert answer.status == 422 and "There is no domain example.com" in answer.body["message"]
    assert admin_api.post("/domains", {"name": "example.com"}).status == 201
    assert admin_api.post(f"/users/{anna['id']}/restore").status == 200


def test_deleted_mailboxes_need_users_view_restore_edit_and_purge_delete(
    admin_api, make_subadmin, domain
):
    anna = add(admin_api, "anna@example.com")
    admin_api.delete(f"/users/{anna['id']}")
    viewer = Api()
    make_subadmin("viewer", levels={"users": Level.VIEW})
    assert viewer.login("viewer").status == 200
    assert viewer.get("/users/deleted").status == 200
    assert viewer.post(f"/users/{anna['id']}/restore").status == 403
    assert viewer.delete(f"/users/deleted/{anna['id']}").status == 403
    nobody = Api()
    make_subadmin("nobody")
    assert nobody.login("nobody").status == 200
    assert nobody.get("/users/deleted").status == 403


@pytest.mark.parametrize("path", ["/users/abc/restore", "/users/0/restore", "/users/99/restore"])
def test_restoring_what_is_not_a_deleted_mailbox_is_4xx(admin_api, domain, path):
    live = add(admin_api, "anna@example.com")
    assert admin_api.post(path).status in (404, 422)
    assert admin_api.post(f"/users/{live['id']}/restore").status == 404
