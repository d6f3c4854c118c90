"""The pages of My mailbox (SPEC §14): 2FA by the Admin's flow (Select Status, requirements
naming app passwords, Next, QR, Challenge, Save, recovery codes), App passwords (created, shown
once, listed, revoked), Password, Sessions, Activity, Forwarding, and Require 2FA for mailbox
owners (only /mailbox/2fa until it is on)."""

import re

import pyotp
import pytest
from django.test import Client

from adminpanel.audit.models import Event
from adminpanel.mail import services as mail
from adminpanel.mail.models import AppPassword, Forwarding, Mailbox
from adminpanel.owners.access import KEPT_ON
from adminpanel.owners.models import OwnerSession
from adminpanel.twofactor import interface as twofactor
from tests.integration.panel import (
    ADMIN_PASSWORD,
    MANUAL_KEY,
    RECOVERY_CODE,
    SETUP_ID,
    log_in,
    text,
)
from tests.owners import OWNER_PASSWORD, owner_log_in, owner_of, owner_signed_in

pytestmark = pytest.mark.django_db

ADDRESS = "ann@owners.example"
NEW_PASSWORD = "Another-Walnut-Ledger-58"
SECRET = re.compile(r'<code id="app-password">([a-z0-9 ]+)</code>')


@pytest.fixture
def box(admin) -> Mailbox:
    mail.create_domain(admin, name="owners.example")
    return mail.create_mailbox(admin, address=ADDRESS, password=OWNER_PASSWORD)


@pytest.fixture
def owner(client, box) -> Client:
    assert owner_log_in(client, ADDRESS).url == "/mailbox/"
    return client


def test_the_owner_turns_2fa_on_by_the_admins_flow(owner, box, clock):
    page = text(owner.get("/mailbox/2fa"))
    assert "Select Status" in page and "Two-factor authentication is disabled." in page
    assert owner.post("/mailbox/2fa", {"status": "enabled"}).url == "/mailbox/2fa/enable"
    requirements = text(owner.get("/mailbox/2fa/enable"))
    assert "Mail apps will need app passwords" in requirements and ">Next</button>" in requirements
    assert owner.post("/mailbox/2fa/enable").url == "/mailbox/2fa/setup"
    setup = text(owner.get("/mailbox/2fa/setup"))
    assert 'aria-label="QR code"' in setup or "QR code" in setup
    key = MANUAL_KEY.search(setup).group(1).replace(" ", "")
    wrong = owner.post(
        "/mailbox/2fa/setup", {"setup": SETUP_ID.search(setup).group(1), "challenge": "12"}
    )
    assert not twofactor.is_enabled(owner_of(box)) and wrong.status_code in (200, 400)
    done = owner.post(
        "/mailbox/2fa/setup",
        {"setup": SETUP_ID.search(setup).group(1), "challenge": pyotp.TOTP(key).at(clock())},
    )
    assert len(RECOVERY_CODE.findall(text(done))) == 10
    assert twofactor.is_enabled(owner_of(box))
    assert owner_signed_in(owner)  # this session stays
    assert Event.objects.filter(event="2fa_enabled", actor_name=ADDRESS).exists()


def test_the_owner_creates_an_app_password_shown_once_and_revokes_it(owner, box):
    posted = owner.post("/mailbox/app-passwords", {"name": "Phone"})
    assert posted.status_code == 302 and posted.url == "/mailbox/app-passwords"  # PRG
    shown = owner.get(posted.url)
    created = text(shown)
    assert "shown only now" in created and "Phone" in created
    assert shown["Cache-Control"] == "no-store"
    listed = text(owner.get("/mailbox/app-passwords"))  # a reload: gone, and no second one
    assert "shown only now" not in listed and "Never" in listed
    stored = AppPassword.objects.get()
    assert AppPassword.objects.count() == 1
    assert owner.post(f"/mailbox/app-passwords/{stored.pk}/revoke").url == "/mailbox/app-passwords"
    assert AppPassword.objects.get().revoked_at is not None
    event = Event.objects.get(event="app_password_created")
    assert event.actor_name == ADDRESS and event.actor is None


def test_the_app_password_waits_in_the_session_only_encrypted(owner, box):
    owner.post("/mailbox/app-passwords", {"name": "Laptop"})
    waiting = str(dict(owner.session.items()))
    secret = SECRET.search(text(owner.get("/mailbox/app-passwords"))).group(1)
    for spelling in (secret, secret.replace(" ", "")):
        assert spelling not in waiting
    assert "mailbox_app_password_created" not in dict(owner.session.items())


@pytest.mark.parametrize("name", ["", "a\0b", "x" * 101, "bell\x07"])
def test_a_bad_app_password_name_is_refused_and_nothing_is_stored(owner, name):
    response = owner.post("/mailbox/app-passwords", {"name": name})
    assert response.status_code == 400 and not AppPassword.objects.exists()


def test_another_mailboxs_app_password_cannot_be_revoked(owner, admin, box):
    other = mail.create_mailbox(admin, address="bo@owners.example", password=OWNER_PASSWORD)
    client = Client()
    owner_log_in(client, "bo@owners.example")
    client.post("/mailbox/app-passwords", {"name": "Laptop"})
    theirs = AppPassword.objects.get(mailbox=other)
    owner.post(f"/mailbox/app-passwords/{theirs.pk}/revoke")
    assert AppPassword.objects.get(pk=theirs.pk).revoked_at is None


def test_the_owner_changes_the_password_and_other_sessions_end(owner, box):
    other = Client()
    owner_log_in(other, ADDRESS)
    wrong = owner.post(
        "/mailbox/password",
        {
            "old_password": "nope-nope-nope",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert "not your current password" in text(wrong)
    done = owner.post(
        "/mailbox/password",
        {
            "old_password": OWNER_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert done.url == "/mailbox/password"
    assert owner_signed_in(owner) and not owner_signed_in(other)
    assert owner_log_in(Client(), ADDRESS, NEW_PASSWORD).url == "/mailbox/"


def test_sessions_list_and_sign_out_of_another(owner, box):
    other = Client(HTTP_USER_AGENT="Other browser")
    owner_log_in(other, ADDRESS)
    page = text(owner.get("/mailbox/sessions"))
    assert "This session" in page and "Sign out all other sessions" in page
    theirs = OwnerSession.objects.exclude(session_key=owner.session.session_key).get()
    assert owner.post(f"/mailbox/sessions/{theirs.pk}/sign-out").url == "/mailbox/sessions"
    assert not owner_signed_in(other) and owner_signed_in(owner)


def test_activity_shows_the_owners_own_events_only(owner, admin, box):
    owner_log_in(Client(), ADDRESS, "wrong-password-typed")
    mail.create_mailbox(admin, address="bo@owners.example", password=OWNER_PASSWORD)
    owner_log_in(Client(), "bo@owners.example")
    page = text(owner.get("/mailbox/activity"))
    assert "My mailbox: signed in" in page and "wrong password" in page
    assert "bo@owners.example" not in page


def test_the_owner_sets_forwarding(owner, box):
    response = owner.post(
        "/mailbox/forwarding/forwarding",
        {"destinations": "me@elsewhere.example", "keep_copy": "on"},
    )
    assert response.url == "/mailbox/forwarding"
    assert Forwarding.objects.get(mailbox=box).destinations == ["me@elsewhere.example"]
    bad = owner.post("/mailbox/forwarding/forwarding", {"destinations": ADDRESS})
    assert bad.status_code == 400


def test_require_2fa_for_owners_leaves_only_the_2fa_page(owner, admin, box, clock):
    mail.update_domain(admin, box.domain, require_owner_2fa=True)
    for path in ["/mailbox/", "/mailbox/app-passwords", "/mailbox/sessions", "/mailbox/activity"]:
        response = owner.get(path)
        assert response.status_code == 302 and response.url == "/mailbox/2fa", path
    assert owner.get("/mailbox/2fa").status_code == 200
    owner.post("/mailbox/2fa", {"status": "enabled"})
    owner.post("/mailbox/2fa/enable")
    setup = text(owner.get("/mailbox/2fa/setup"))
    key = MANUAL_KEY.search(setup).group(1).replace(" ", "")
    owner.post(
        "/mailbox/2fa/setup",
        {"setup": SETUP_ID.search(setup).group(1), "challenge": pyotp.TOTP(key).at(clock())},
    )
    assert owner.get("/mailbox/").status_code == 200
    assert owner.get("/mailbox/2fa/disable").status_code == 302  # the domain keeps it on
    page = text(owner.get("/mailbox/2fa"))
    assert f"{KEPT_ON}, so it cannot be turned off here." in page  # the status page's hint
    assert f"{KEPT_ON}." in page  # the refusal of Disabled
    assert "ask your mail administrator for Reset 2FA" in page
    assert "Admin" not in page.replace("Admin Panel", "").replace("administrator", "")


def test_an_admin_session_opens_none_of_the_owner_pages(client, box, admin):
    log_in(client, "admin", ADMIN_PASSWORD)
    for path in ["/mailbox/", "/mailbox/2fa", "/mailbox/app-passwords", "/mailbox/activity"]:
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith("/mailbox/login"), path
    assert client.post("/mailbox/app-passwords", {"name": "x"}).status_code == 302
    assert not AppPassword.objects.exists()


def test_enabling_2fa_after_10_minutes_asks_to_confirm_access_first(owner, box, clock):
    clock.advance(minutes=11)
    response = owner.get("/mailbox/2fa/enable")
    assert response.status_code == 302 and response.url.startswith("/mailbox/confirm?next=")
    page = text(owner.get(response.url))
    assert "Confirm access" in page and "My mailbox" in page
    wrong = owner.post(
        "/mailbox/confirm", {"password": "not-my-password", "next": "/mailbox/2fa/enable"}
    )
    assert "Wrong password." in text(wrong)
    right = owner.post(
        "/mailbox/confirm", {"password": OWNER_PASSWORD, "next": "/mailbox/2fa/enable"}
    )
    assert right.url == "/mailbox/2fa/enable"
    assert "Before you start" in text(owner.get("/mailbox/2fa/enable"))
    assert Event.objects.filter(event="access_confirmed", actor_name=ADDRESS).exists()
    elsewhere = owner.post("/mailbox/confirm", {"password": OWNER_PASSWORD, "next": "/subadmins"})
    assert elsewhere.url == "/mailbox/"
