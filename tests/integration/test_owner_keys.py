"""Security keys and passkeys of mailbox owners (SPEC §11, §14), by the Admin's ceremony: added,
named and removed on /mailbox/2fa; Use security key in /mailbox/login's pop-up; Sign in with a
passkey there; Replace/Remove authenticator app and New recovery codes as on the Admin's page.
A key is its person's: an owner's never signs in an Admin, nor the reverse.

Real signatures from the software key of tests/softkey.py (origin http://testserver).
"""

import json
from datetime import timedelta

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from adminpanel.audit.models import Event
from adminpanel.mail import services as mail
from adminpanel.mail.models import Mailbox
from adminpanel.owners.models import OwnerSession
from adminpanel.twofactor import interface as twofactor
from adminpanel.twofactor.models import WebAuthnKey
from tests.integration.keys import ORIGIN, OWNER, add_key, options, passkey, use_key
from tests.integration.panel import (
    ADMIN_PASSWORD,
    MANUAL_KEY,
    RECOVERY_CODE,
    SETUP_ID,
    is_logged_in,
    log_in,
    text,
)
from tests.owners import OWNER_PASSWORD, owner_log_in, owner_of, owner_signed_in
from tests.softkey import SoftKey

pytestmark = pytest.mark.django_db

ADDRESS = "ann@owners.example"
PASSKEY_UNKNOWN = "This passkey is not registered here."
NOT_REGISTERED = "This security key is not registered for this account."
KEY_NAME = "Phone passkey"


@pytest.fixture
def box(admin) -> Mailbox:
    mail.create_domain(admin, name="owners.example")
    return mail.create_mailbox(admin, address=ADDRESS, password=OWNER_PASSWORD)


@pytest.fixture
def owner(box) -> Client:
    client = Client()
    assert owner_log_in(client, ADDRESS).url == "/mailbox/"
    return client


@pytest.fixture
def ann_key(owner) -> SoftKey:
    """Ann, the mailbox's owner, with one key (her only second factor)."""
    key = SoftKey(ORIGIN)
    assert add_key(owner, key, KEY_NAME, side=OWNER).status_code == 200
    return key


@pytest.fixture
def owner_pending(ann_key) -> Client:
    """A visitor who passed Ann's password step at /mailbox/login and sees the pop-up."""
    client = Client()
    assert owner_log_in(client, ADDRESS).url == "/mailbox/login"
    return client


# --- My mailbox → 2FA → Security keys -------------------------------------------------------


def test_the_owners_2fa_page_offers_security_keys(owner):
    page = text(owner.get("/mailbox/2fa"))
    assert '<h2 id="keys-title">Security keys</h2>' in page
    assert '<label for="id_key_name">Key name</label>' in page
    assert 'action="/mailbox/2fa/keys/add"' in page
    assert 'data-options-url="/mailbox/webauthn/options"' in page


def test_the_owners_first_key_enables_2fa_and_shows_10_recovery_codes(owner, box):
    response = add_key(owner, SoftKey(ORIGIN), KEY_NAME, side=OWNER)
    page = text(response)
    assert "Security key “Phone passkey” added." in page
    assert "Two-factor authentication is enabled." in page
    assert len(RECOVERY_CODE.findall(response.content.decode())) == 10
    assert "My mailbox" in page and ADDRESS in page  # the owner's frame, the owner's name
    assert twofactor.is_enabled(owner_of(box))
    added = Event.objects.get(event="webauthn_key_added")
    assert added.actor_name == ADDRESS and added.actor is None


def test_the_owners_keys_are_listed_with_remove(owner, ann_key, box):
    add_key(owner, SoftKey(ORIGIN), "Backup key", side=OWNER)
    page = text(owner.get("/mailbox/2fa"))
    assert "<td>Phone passkey</td>" in page and "<td>Backup key</td>" in page
    backup = WebAuthnKey.objects.get(name="Backup key")
    assert f'href="/mailbox/2fa/keys/{backup.pk}/remove"' in page
    assert "Generate new recovery codes" in page


def test_the_owner_removes_a_key(owner, ann_key, box):
    add_key(owner, SoftKey(ORIGIN), "Backup key", side=OWNER)
    backup = WebAuthnKey.objects.get(name="Backup key")
    assert "Remove the security key" in text(owner.get(f"/mailbox/2fa/keys/{backup.pk}/remove"))
    response = owner.post(f"/mailbox/2fa/keys/{backup.pk}/remove")
    assert response.url == "/mailbox/2fa"
    assert "Security key “Backup key” removed." in text(owner.get("/mailbox/2fa"))
    assert list(WebAuthnKey.objects.values_list("name", flat=True)) == ["Phone passkey"]


def test_the_owners_last_key_goes_by_disabling_2fa_with_the_key(owner, ann_key, box):
    only = WebAuthnKey.objects.get()
    assert owner.get(f"/mailbox/2fa/keys/{only.pk}/remove").url == "/mailbox/2fa/disable"
    page = text(owner.get("/mailbox/2fa/disable"))
    assert 'action="/mailbox/2fa/disable/key"' in page
    answer = ann_key.get(options(owner, "disable", side=OWNER))
    response = owner.post("/mailbox/2fa/disable/key", {"credential": json.dumps(answer)})
    assert response.url == "/mailbox/2fa"
    assert "Two-factor authentication is disabled." in text(owner.get("/mailbox/2fa"))
    assert not twofactor.is_enabled(owner_of(box)) and not WebAuthnKey.objects.exists()


def test_the_owner_regenerates_recovery_codes_with_the_key(owner, ann_key):
    page = text(owner.get("/mailbox/2fa/recovery-codes"))
    assert "Generate new recovery codes" in page and "/mailbox/2fa/recovery-codes/key" in page
    answer = ann_key.get(options(owner, "regenerate", side=OWNER))
    response = owner.post("/mailbox/2fa/recovery-codes/key", {"credential": json.dumps(answer)})
    assert "New recovery codes were generated." in text(response)
    assert len(RECOVERY_CODE.findall(response.content.decode())) == 10


def test_an_owners_key_page_another_owners_key_is_not_found(owner, ann_key, admin):
    mail.create_mailbox(admin, address="bob@owners.example", password=OWNER_PASSWORD)
    bob = Client()
    owner_log_in(bob, "bob@owners.example")
    add_key(bob, SoftKey(ORIGIN), "Bob's key", side=OWNER)
    bobs = WebAuthnKey.objects.get(name="Bob's key")
    assert owner.post(f"/mailbox/2fa/keys/{bobs.pk}/remove").status_code == 404
    assert WebAuthnKey.objects.filter(pk=bobs.pk).exists()


def test_adding_a_key_after_10_minutes_asks_to_confirm_access_first(owner, clock):
    clock.advance(minutes=11)
    response = owner.post("/mailbox/webauthn/options", {"purpose": "register", "name": "Late key"})
    assert response.status_code == 403
    assert response.json()["confirm_url"].startswith("/mailbox/confirm?next=")
    assert "key_name%3DLate" in response.json()["confirm_url"]


def test_an_admin_session_gets_no_owner_options(admin):
    client = Client()
    log_in(client, "admin", ADMIN_PASSWORD)
    response = client.post("/mailbox/webauthn/options", {"purpose": "register", "name": "X"})
    assert response.status_code == 403 and response.json()["error"] == "not_authenticated"


# --- the pop-up at /mailbox/login -----------------------------------------------------------


def test_the_owners_popup_offers_use_security_key(owner_pending):
    page = text(owner_pending.get("/mailbox/login")).replace("</svg>", "")
    assert ">Use security key</button>" in page
    assert 'action="/mailbox/login/key"' in page
    assert 'data-options-url="/mailbox/webauthn/options"' in page


def test_password_and_key_sign_the_owner_in(owner_pending, ann_key):
    answer = ann_key.get(options(owner_pending, "login", side=OWNER))
    response = use_key(owner_pending, answer, side=OWNER)
    assert response.status_code == 302 and response.url == "/mailbox/"
    assert owner_signed_in(owner_pending) and not is_logged_in(owner_pending)
    login = Event.objects.filter(event="mailbox_login").latest("pk")
    assert login.actor_name == ADDRESS and login.details["two_factor"] is True
    assert OwnerSession.objects.get(session_key=owner_pending.session.session_key).two_factor


def test_the_admins_options_know_no_owners_pending_login(owner_pending):
    response = owner_pending.post("/webauthn/options", {"purpose": "login"})
    assert response.status_code == 403 and response.json()["error"] == "no_pending_login"


def test_an_admins_key_does_not_answer_an_owners_popup(owner_pending, alice_key):
    answer = alice_key.get(options(owner_pending, "login", side=OWNER))
    response = use_key(owner_pending, answer, side=OWNER)
    assert NOT_REGISTERED in text(response)
    assert not owner_signed_in(owner_pending)


def test_an_owners_key_does_not_answer_an_admins_popup(alice_key, ann_key):
    client = Client()
    assert log_in(client).url == "/login"  # Alice's password: her pop-up
    answer = ann_key.get(options(client, "login"))
    assert NOT_REGISTERED in text(use_key(client, answer))
    assert not is_logged_in(client)


# --- Sign in with a passkey at /mailbox/login -----------------------------------------------


def test_the_owners_login_page_offers_sign_in_with_a_passkey(client):
    page = text(client.get("/mailbox/login"))
    assert "Sign in with a passkey</button>" in page
    assert 'action="/mailbox/login/passkey"' in page


def test_an_owners_passkey_signs_in_to_my_mailbox_without_a_password(ann_key):
    client = Client()
    response = passkey(client, ann_key.get(options(client, "passkey", side=OWNER)), side=OWNER)
    assert response.status_code == 302 and response.url == "/mailbox/"
    assert owner_signed_in(client) and not is_logged_in(client)
    assert Event.objects.filter(event="mailbox_login").latest("pk").details["two_factor"] is True
    assert Event.objects.filter(event="passkey_sign_in", actor_name=ADDRESS).count() == 1


def test_an_owners_passkey_never_signs_in_an_admin(ann_key):
    client = Client()
    response = passkey(client, ann_key.get(options(client, "passkey")))
    assert PASSKEY_UNKNOWN in text(response)
    assert not is_logged_in(client) and not owner_signed_in(client)
    assert not Event.objects.filter(event="passkey_sign_in").exists()


def test_an_admins_passkey_never_signs_in_to_my_mailbox(alice_key):
    client = Client()
    response = passkey(client, alice_key.get(options(client, "passkey", side=OWNER)), side=OWNER)
    assert PASSKEY_UNKNOWN in text(response)
    assert not owner_signed_in(client) and not is_logged_in(client)
    assert not Event.objects.filter(event="passkey_sign_in").exists()


def test_a_passkey_of_a_mailbox_whose_sign_in_is_off_is_refused(ann_key, box, admin):
    mail.update_mailbox(admin, box, sign_in_allowed=False)
    client = Client()
    response = passkey(client, ann_key.get(options(client, "passkey", side=OWNER)), side=OWNER)
    assert PASSKEY_UNKNOWN in text(response)
    assert not owner_signed_in(client)


def test_an_owners_passkey_answer_is_accepted_once(ann_key):
    client = Client()
    answer = ann_key.get(options(client, "passkey", side=OWNER))
    assert passkey(client, answer, side=OWNER).url == "/mailbox/"
    again = passkey(client, answer, side=OWNER)  # the same signed answer again
    assert again.status_code != 302 and "already been used" in text(again)
    assert Event.objects.filter(event="passkey_sign_in").count() == 1


def test_a_passkey_sign_in_goes_only_to_a_next_within_my_mailbox(ann_key):
    client = Client()
    answer = ann_key.get(options(client, "passkey", side=OWNER))
    response = client.post(
        "/mailbox/login/passkey?next=/subadmins", {"credential": json.dumps(answer)}
    )
    assert response.url == "/mailbox/"


def test_an_owners_sign_in_sweeps_the_rows_of_its_sessions_that_expired_unseen(owner, ann_key):
    def expire(client: Client) -> str:
        key = client.session.session_key
        Session.objects.filter(session_key=key).update(
            expire_date=timezone.now() - timedelta(days=1)
        )
        return key

    expired = expire(owner)
    by_passkey = Client()
    answer = ann_key.get(options(by_passkey, "passkey", side=OWNER))
    assert passkey(by_passkey, answer, side=OWNER).url == "/mailbox/"
    assert not OwnerSession.objects.filter(session_key=expired).exists()

    expired = expire(by_passkey)
    assert owner_log_in(Client(), ADDRESS).url == "/mailbox/login"  # the password step
    assert not OwnerSession.objects.filter(session_key=expired).exists()


# --- Confirm access, Replace and Remove authenticator app ---------------------------------------


def test_the_owner_confirms_access_with_the_key(owner, ann_key, clock):
    clock.advance(minutes=11)
    page = text(owner.get("/mailbox/confirm?next=/mailbox/2fa/recovery-codes"))
    assert "Use security key" in page and 'data-options-url="/mailbox/webauthn/options"' in page
    answer = ann_key.get(options(owner, "confirm", side=OWNER))
    response = owner.post(
        "/mailbox/confirm",
        {
            "password": OWNER_PASSWORD,
            "credential": json.dumps(answer),
            "next": "/mailbox/2fa/recovery-codes",
        },
    )
    assert response.url == "/mailbox/2fa/recovery-codes"
    assert Event.objects.filter(event="access_confirmed", actor_name=ADDRESS).count() == 1


def test_the_owner_with_app_and_key_has_replace_and_remove(owner, ann_key, box, clock):
    assert owner.post("/mailbox/2fa/enable").url == "/mailbox/2fa/setup"  # the app beside the key
    setup = text(owner.get("/mailbox/2fa/setup"))
    secret = MANUAL_KEY.search(setup).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).at(clock())
    added = owner.post(
        "/mailbox/2fa/setup", {"setup": SETUP_ID.search(setup).group(1), "challenge": code}
    )
    assert added.url == "/mailbox/2fa"
    page = text(owner.get("/mailbox/2fa"))
    assert 'href="/mailbox/2fa/app/replace"' in page and 'href="/mailbox/2fa/app/remove"' in page
    assert "Replace the authenticator app" in text(owner.get("/mailbox/2fa/app/replace"))
    assert owner.post("/mailbox/2fa/app/replace").url == "/mailbox/2fa/app/replace/setup"
    assert "Scan this QR code" in text(owner.get("/mailbox/2fa/app/replace/setup"))
    assert owner.post("/mailbox/2fa/app/remove").url == "/mailbox/2fa"
    assert "Authenticator app removed." in text(owner.get("/mailbox/2fa"))
    assert twofactor.capabilities(owner_of(box)) == {"can_type_code": False, "can_sign": True}
