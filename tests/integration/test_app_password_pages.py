"""SPEC §14, the Admin's pages: Domains → edit has the two mail-app settings; Users shows each
mailbox's number of app passwords; a mailbox's edit page has Revoke app passwords."""

import pytest

from adminpanel.audit.models import Event
from adminpanel.mail import app_passwords
from adminpanel.mail import services as mail
from adminpanel.mail.models import Domain, Mailbox
from tests.integration.panel import MAILBOX_PASSWORD, log_in_admin, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(admin):
    return log_in_admin()


@pytest.fixture
def info(admin) -> Mailbox:
    mail.create_domain(admin, name="example.com")
    return mail.create_mailbox(admin, address="info@example.com", password=MAILBOX_PASSWORD)


def test_domain_edit_has_the_two_mail_app_settings_and_saves_them(client, info):
    domain = info.domain
    page = text(client.get(f"/domains/{domain.pk}"))
    assert "Mail apps may use the mailbox password" in page
    assert "Require 2FA for mailbox owners" in page
    answer = client.post(f"/domains/{domain.pk}", {"active": "on", "require_owner_2fa": "on"})
    assert answer.status_code == 302
    domain = Domain.objects.get(pk=domain.pk)
    assert (domain.mail_apps_may_use_mailbox_password, domain.require_owner_2fa) == (False, True)


def test_users_shows_the_count_and_revoke_app_passwords_revokes_them_all(client, info):
    for name in ("Phone", "Laptop"):
        app_passwords.create_app_password(info, name=name)
    listing = text(client.get("/users"))
    assert "App passwords" in listing and '<td data-label="App passwords" class="num">2</td>' in (
        listing
    )
    edit = text(client.get(f"/users/{info.pk}"))
    assert "2 active app passwords" in edit and "Revoke app passwords" in edit
    answer = client.post(f"/users/{info.pk}/revoke-app-passwords", follow=True)
    assert "Revoked 2 app passwords of info@example.com" in text(answer)
    assert app_passwords.active_count(info) == 0
    assert Event.objects.filter(event="app_passwords_revoked", actor_name="admin").exists()
