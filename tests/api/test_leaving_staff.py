"""SPEC §16 "Leaving staff" through the API and the service: a mailbox's Forwarding and
Automatic reply are read and set by whoever may edit Users, every bad value is a 4xx naming its
field with nothing changed, every change is logged, and the mail server's script follows."""

import pytest
from django.db import connection

from adminpanel.audit.models import Event
from adminpanel.errors import Invalid
from adminpanel.mail import deleted, leaving
from adminpanel.mail import services as mail
from adminpanel.mail.models import Domain, Mailbox, SieveScript
from adminpanel.mailserver.sieve import MAX_REDIRECTS
from tests.api.client import Api

pytestmark = pytest.mark.django_db

MAILBOX_PASSWORD = "a-long-mailbox-passphrase"


@pytest.fixture
def example(admin) -> Domain:
    return mail.create_domain(admin, name="example.com")


@pytest.fixture
def anna(admin, example) -> Mailbox:
    return mail.create_mailbox(admin, address="Anna@example.com", password=MAILBOX_PASSWORD)


def script(mailbox: Mailbox) -> str:
    found = SieveScript.objects.filter(mailbox=mailbox).first()
    return found.script if found else ""


def rejected(answer, field: str) -> bool:
    return answer.status == 422 and list(answer.body["fields"]) == [field]


# --- forwarding ----------------------------------------------------------------------------


def test_a_mailbox_is_not_forwarded_until_set(admin_api, anna):
    answer = admin_api.get(f"/users/{anna.pk}/forwarding")
    assert (answer.status, answer.body) == (200, {"destinations": [], "keep_copy": True})


def test_forwarding_is_set_read_back_and_rendered_for_the_mail_server(admin_api, anna):
    setting = {
        "destinations": ["Next@Elsewhere.example", "boss@bücher.example"],
        "keep_copy": False,
    }
    answer = admin_api.put(f"/users/{anna.pk}/forwarding", setting)
    expected = ["Next@elsewhere.example", "boss@xn--bcher-kva.example"]
    assert (answer.status, answer.body) == (200, {"destinations": expected, "keep_copy": False})
    assert admin_api.get(f"/users/{anna.pk}/forwarding").body == answer.body
    assert 'redirect "Next@elsewhere.example";' in script(anna)
    assert "keep;" not in script(anna)


def test_an_empty_list_stops_forwarding_and_removes_the_script(admin_api, anna):
    admin_api.put(f"/users/{anna.pk}/forwarding", {"destinations": ["a@b.example"]})
    answer = admin_api.put(f"/users/{anna.pk}/forwarding", {"destinations": []})
    assert answer.body["destinations"] == []
    assert script(anna) == ""


@pytest.mark.parametrize(
    "destinations",
    [
        ["not an address"],
        ["anna@example.com"],
        ["ANNA+tag@Example.com"],
        [f"n{i}@elsewhere.example" for i in range(MAX_REDIRECTS + 1)],
        ["a@b.example\nredirect"],
    ],
    ids=["malformed", "itself", "itself with a tag", "too many", "line break"],
)
def test_bad_forwarding_is_422_naming_the_destinations_and_changes_nothing(
    admin_api, anna, destinations
):
    answer = admin_api.put(f"/users/{anna.pk}/forwarding", {"destinations": destinations})
    assert answer.status in (400, 422)
    assert "destinations" in (answer.body.get("fields") or {}), answer.body
    assert script(anna) == ""
    assert not Event.objects.filter(event="forwarding_changed").exists()


def test_forwarding_that_would_come_back_is_refused(admin, admin_api, example, anna):
    bob = mail.create_mailbox(admin, address="bob@example.com", password=MAILBOX_PASSWORD)
    mail.create_alias(admin, address="team@example.com", destinations=["anna@example.com"])
    assert admin_api.put(f"/users/{bob.pk}/forwarding", {"destinations": ["anna@example.com"]})
    # Anna -> Bob -> Anna, and Anna -> team (an alias) -> Anna, are loops.
    for target in ["bob@example.com", "team@example.com"]:
        answer = admin_api.put(f"/users/{anna.pk}/forwarding", {"destinations": [target]})
        assert rejected(answer, "destinations"), target
        assert "loop" in answer.body["fields"]["destinations"]


def test_bad_forwarding_bodies_are_4xx_never_500(admin_api, anna):
    for body in [{}, {"destinations": "a@b.example"}, {"destinations": [1]}, {"keep_copy": 3}]:
        answer = admin_api.put(f"/users/{anna.pk}/forwarding", body)
        assert 400 <= answer.status < 500, body
    assert admin_api.put("/users/999999/forwarding", {"destinations": []}).status == 404


def test_forwarding_needs_users_edit(make_subadmin, anna):
    make_subadmin("viewer", levels={"users": 1})
    viewer = Api()
    assert viewer.login("viewer").status == 200
    assert viewer.get(f"/users/{anna.pk}/forwarding").status == 200
    answer = viewer.put(f"/users/{anna.pk}/forwarding", {"destinations": ["a@b.example"]})
    assert (answer.status, answer.error) == (403, "permission_denied")
    assert script(anna) == ""


def test_a_forwarding_change_is_logged(admin_api, anna):
    admin_api.put(f"/users/{anna.pk}/forwarding", {"destinations": ["a@b.example"]})
    event = Event.objects.get(event="forwarding_changed")
    assert event.actor.username == "admin"
    assert event.details["address"] == "Anna@example.com"
    assert event.details["destinations"] == ["a@b.example"]


def test_the_owner_may_set_forwarding_without_an_account(anna):
    leaving.set_forwarding(anna, destinations=["a@b.example"], keep_copy=True, actor=None)
    event = Event.objects.get(event="forwarding_changed")
    assert (event.actor, event.actor_name, event.details["by_owner"]) == (
        None,
        "Anna@example.com",
        True,
    )


# --- automatic reply -----------------------------------------------------------------------

REPLY = {
    "enabled": True,
    "subject": "Away",
    "text": "I have left.\nPlease write to bob@example.com.",
    "starts_on": "2030-01-01",
    "ends_on": "2030-01-31",
}


def test_an_automatic_reply_is_off_until_set(admin_api, anna):
    answer = admin_api.get(f"/users/{anna.pk}/automatic-reply")
    assert answer.body == {
        "enabled": False,
        "subject": "",
        "text": "",
        "starts_on": None,
        "ends_on": None,
    }


def test_an_automatic_reply_is_set_read_back_and_rendered(admin_api, anna):
    answer = admin_api.put(f"/users/{anna.pk}/automatic-reply", REPLY)
    assert (answer.status, answer.body) == (200, REPLY)
    assert admin_api.get(f"/users/{anna.pk}/automatic-reply").body == REPLY
    assert ':subject "Away" text:\nI have left.' in script(anna)
    assert '"2030-01-31"' in script(anna)
    event = Event.objects.get(event="automatic_reply_changed")
    assert event.details["subject"] == "Away"
    assert "text" not in event.details


def test_switched_off_the_reply_keeps_its_text_but_leaves_the_script(admin_api, anna):
    admin_api.put(f"/users/{anna.pk}/automatic-reply", REPLY)
    answer = admin_api.put(f"/users/{anna.pk}/automatic-reply", {**REPLY, "enabled": False})
    assert answer.body["text"] == REPLY["text"]
    assert script(anna) == ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "Away\r\nBcc: victim@example.org"}, "subject"),
        ({"subject": "Away\nX"}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"text": ""}, "text"),
        ({"text": "   \n "}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"starts_on": "2030-02-01", "ends_on": "2030-01-01"}, "ends_on"),
        ({"starts_on": "tomorrow"}, "starts_on"),
        ({"ends_on": "2030-02-30"}, "ends_on"),
    ],
    ids=[
        "header injection",
        "line break in subject",
        "long subject",
        "no text",
        "blank text",
        "long text",
        "until before from",
        "not a date",
        "no such day",
    ],
)
def test_a_bad_automatic_reply_is_422_naming_its_field_and_changes_nothing(
    admin_api, anna, change, field
):
    answer = admin_api.put(f"/users/{anna.pk}/automatic-reply", {**REPLY, **change})
    assert answer.status == 422, answer.body
    assert field in answer.body["fields"], answer.body
    assert script(anna) == ""
    assert not Event.objects.filter(event="automatic_reply_changed").exists()


def test_a_lone_surrogate_in_the_reply_is_refused_not_a_500(admin_api, anna):
    raw = '{"enabled": true, "subject": "Away", "text": "bad \\ud800 text"}'
    answer = admin_api.call("PUT", f"/users/{anna.pk}/automatic-reply", raw=raw)
    assert 400 <= answer.status < 500


@pytest.mark.parametrize(
    ("subject", "text", "field"),
    [("a\rb", "Away", "subject"), ("Away", "a\x00b", "text"), ("Away", "bad \ud800", "text")],
    ids=["carriage return", "NUL", "lone surrogate"],
)
def test_the_service_refuses_what_the_mail_server_could_not_take(anna, subject, text, field):
    with pytest.raises(Invalid) as refused:
        leaving.set_automatic_reply(anna, enabled=True, subject=subject, text=text, actor=None)
    assert refused.value.field == field


def test_forwarding_and_reply_live_in_one_script(admin_api, anna):
    admin_api.put(f"/users/{anna.pk}/automatic-reply", REPLY)
    admin_api.put(f"/users/{anna.pk}/forwarding", {"destinations": ["a@b.example"]})
    assert "vacation" in script(anna)
    assert 'redirect "a@b.example";\nkeep;' in script(anna)


def sieve_view_addresses() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM mailserver_sieve")
        return [row[0] for row in cursor.fetchall()]


def test_a_deleted_mailbox_leaves_the_sieve_view_and_its_address_reused_gets_none_of_it(
    admin, admin_api, anna
):
    admin_api.put(f"/users/{anna.pk}/forwarding", {"destinations": ["a@b.example"]})
    mail.delete_mailbox(admin, anna)
    assert sieve_view_addresses() == []
    # The address given to someone new: the previous owner's forwarding must not apply.
    mail.create_mailbox(admin, address=anna.address, password="Mailbox-Amber-Quarry-58")
    assert sieve_view_addresses() == []
    assert SieveScript.objects.filter(mailbox=anna).exists()  # kept for a Restore


def test_a_restored_mailbox_gets_its_forwarding_back_and_a_purged_one_takes_it_away(
    admin, admin_api, anna
):
    admin_api.put(f"/users/{anna.pk}/forwarding", {"destinations": ["a@b.example"]})
    mail.delete_mailbox(admin, anna)
    deleted.restore_mailbox(admin, deleted.get_deleted(admin, anna.pk))
    assert sieve_view_addresses() == [anna.address.lower()]
    mail.delete_mailbox(admin, anna)
    Mailbox.with_deleted.filter(pk=anna.pk).delete()  # what forgetting a purged one does
    assert not SieveScript.objects.exists()
