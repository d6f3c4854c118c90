"""SPEC §16 on the web: a mailbox's page renames it and turns sign-in off; Users → Deleted
mailboxes restores one or purges its mail; the delete confirmation says what happens."""

import pytest

from adminpanel.accounts.models import Level
from adminpanel.mail import services as mail
from adminpanel.mail.models import Alias, Mailbox
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
def info(admin) -> Mailbox:
    mail.create_domain(admin, name="example.com")
    return mail.create_mailbox(admin, address="info@example.com", password=MAILBOX_PASSWORD)


def restore_button(mailbox: Mailbox) -> str:
    return f'action="/users/deleted/{mailbox.pk}/restore"'


def purge_link(mailbox: Mailbox) -> str:
    return f'href="/users/deleted/{mailbox.pk}/purge"'


def edit_form(**overrides) -> dict:
    data = {
        "address": "info@example.com",
        "display_name": "",
        "password": "",
        "quota_mb": "1024",
        "active": "on",
        "sign_in_allowed": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_mailbox_page_shows_its_address_and_sign_in_allowed(client, info):
    page = text(client.get(f"/users/{info.pk}"))
    assert 'value="info@example.com"' in page
    assert "Keep the old address as an alias" in page and "Sign-in allowed" in page


def test_renaming_on_the_mailbox_page_keeps_the_old_address_as_an_alias(client, info):
    data = edit_form(address="hello@example.com", keep_old_address_as_alias="on")
    assert client.post(f"/users/{info.pk}", data).status_code == 302
    info.refresh_from_db()
    assert info.address == "hello@example.com"
    assert Alias.objects.get().destinations == ["hello@example.com"]
    assert events("mailbox_renamed")[0].details["old_address"] == "info@example.com"


def test_renaming_to_a_taken_address_says_so_by_the_field(admin, client, info):
    mail.create_mailbox(admin, address="bob@example.com", password=MAILBOX_PASSWORD)
    response = client.post(f"/users/{info.pk}", edit_form(address="bob@example.com"))
    assert response.status_code == 400
    assert "already a mailbox" in field_error(response, "address")
    info.refresh_from_db()
    assert info.address == "info@example.com"


def test_sign_in_can_be_turned_off_and_the_list_says_so(client, info):
    assert client.post(f"/users/{info.pk}", edit_form(sign_in_allowed=None)).status_code == 302
    info.refresh_from_db()
    assert info.sign_in_allowed is False
    assert "Sign-in off" in text(client.get("/users"))


def test_the_delete_confirmation_names_the_mailbox_and_says_its_mail_is_kept(client, info):
    page = text(client.get(f"/users/{info.pk}/delete"))
    assert "Delete mailbox info@example.com?" in page
    assert "kept for 30 days" in page and "Deleted mailboxes" in page


def test_a_deleted_mailbox_is_listed_and_restored_from_deleted_mailboxes(client, info):
    response = client.post(f"/users/{info.pk}/delete")
    assert response.status_code == 302
    page = text(client.get("/users/deleted"))
    assert "info@example.com" in page
    assert restore_button(info) in page and purge_link(info) in page
    response = client.post(f"/users/deleted/{info.pk}/restore")
    assert response.status_code == 302 and response.url == f"/users/{info.pk}"
    assert Mailbox.objects.filter(pk=info.pk).exists()
    assert "No deleted mailboxes." in text(client.get("/users/deleted"))


def test_purge_now_is_confirmed_then_the_mailbox_cannot_be_restored(client, info):
    client.post(f"/users/{info.pk}/delete")
    page = text(client.get(f"/users/deleted/{info.pk}/purge"))
    assert "Purge the mail of info@example.com now?" in page
    assert client.post(f"/users/deleted/{info.pk}/purge").status_code == 302
    page = text(client.get("/users/deleted"))
    assert "Being purged" in page and restore_button(info) not in page
    response = client.post(f"/users/deleted/{info.pk}/restore", follow=True)
    assert "being purged" in text(response)
    assert not Mailbox.objects.filter(pk=info.pk).exists()
    assert [e.event for e in events("mailbox_purge_requested")] == ["mailbox_purge_requested"]


def test_a_viewer_sees_deleted_mailboxes_but_cannot_restore_or_purge(admin, info):
    mail.delete_mailbox(admin, info)
    make_subadmin(admin, "viewer", web_access=True, levels={"users": Level.VIEW})
    viewer = signed_in("viewer")
    page = text(viewer.get("/users/deleted"))
    assert "info@example.com" in page
    assert restore_button(info) not in page and purge_link(info) not in page
    assert viewer.post(f"/users/deleted/{info.pk}/restore").status_code == 403
    assert viewer.get(f"/users/deleted/{info.pk}/purge").status_code == 403
    assert viewer.post(f"/users/deleted/{info.pk}/purge").status_code == 403
