"""SPEC §16 "Leaving staff" on the mailbox's edit page (Users → edit): a Forwarding section and
an Automatic reply section, each saved on its own, refused with a message by its field."""

import re

import pytest

from adminpanel.mail import leaving
from adminpanel.mail import services as mail
from adminpanel.mail.models import Mailbox, SieveScript
from tests.integration.panel import (
    MAILBOX_PASSWORD,
    events,
    field_error,
    log_in_admin,
    make_subadmin,
    signed_in,
    text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(admin):
    return log_in_admin()


@pytest.fixture
def anna(admin) -> Mailbox:
    mail.create_domain(admin, name="example.com")
    return mail.create_mailbox(admin, address="anna@example.com", password=MAILBOX_PASSWORD)


def test_the_edit_page_has_forwarding_and_automatic_reply_with_a_label_on_every_field(client, anna):
    page = text(client.get(f"/users/{anna.pk}"))
    assert '<h2 id="forwarding-heading">Forwarding</h2>' in page
    assert '<h2 id="automatic-reply-heading">Automatic reply</h2>' in page
    assert "Keep a copy in this mailbox" in page
    for name in ["destinations", "keep_copy", "enabled", "subject", "text", "starts_on", "ends_on"]:
        control = re.search(rf'<(?:input|textarea)\b[^>]*\bname="{name}"[^>]*\bid="([^"]+)"', page)
        assert control, name
        assert f'<label for="{control.group(1)}"' in page, name


def test_forwarding_is_saved_from_the_page_and_shown_again(admin, client, anna):
    response = client.post(
        f"/users/{anna.pk}/forwarding",
        {"destinations": "next@elsewhere.example\nboss@elsewhere.example", "keep_copy": "on"},
    )
    assert response.status_code == 302 and response.url == f"/users/{anna.pk}"
    assert leaving.forwarding_of(anna).destinations == [
        "next@elsewhere.example",
        "boss@elsewhere.example",
    ]
    assert "next@elsewhere.example\nboss@elsewhere.example" in text(client.get(response.url))
    (event,) = events("forwarding_changed")
    assert event.actor == admin


def test_forwarding_to_the_mailbox_itself_is_refused_by_its_field(client, anna):
    response = client.post(f"/users/{anna.pk}/forwarding", {"destinations": "anna@example.com"})
    assert response.status_code == 400
    assert field_error(response, "destinations") == "A mailbox cannot forward to itself."
    assert not SieveScript.objects.exists()


def test_an_automatic_reply_is_saved_from_the_page(client, anna):
    response = client.post(
        f"/users/{anna.pk}/automatic-reply",
        {
            "enabled": "on",
            "subject": "Away",
            "text": "I have left.",
            "starts_on": "2030-01-01",
            "ends_on": "2030-01-31",
        },
    )
    assert response.status_code == 302
    reply = leaving.automatic_reply_of(anna)
    assert (reply.enabled, reply.subject, str(reply.ends_on)) == (True, "Away", "2030-01-31")
    assert "vacation" in SieveScript.objects.get(mailbox=anna).script


def test_an_automatic_reply_without_text_is_refused_by_its_field(client, anna):
    response = client.post(f"/users/{anna.pk}/automatic-reply", {"enabled": "on", "text": ""})
    assert response.status_code == 400
    assert field_error(response, "text") == "Enter the text of the automatic reply."


def test_a_viewer_sees_the_settings_but_cannot_save_them(admin, anna):
    make_subadmin(admin, "viewer", levels={"users": 1})
    viewer = signed_in("viewer")
    page = text(viewer.get(f"/users/{anna.pk}"))
    assert "Forwarding" in page and "Save forwarding" not in page
    response = viewer.post(f"/users/{anna.pk}/forwarding", {"destinations": "a@b.example"})
    assert response.status_code == 403
    assert not SieveScript.objects.exists()
