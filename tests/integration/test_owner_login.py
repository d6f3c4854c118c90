"""My mailbox's sign-in (SPEC §14): the mailbox's address and password at /mailbox/login,
through the same login steps, pop-up and throttles as the Admin's /login; sessions of their own
kind (an owner's session opens no Admin page nor the API, an Admin's opens no My mailbox page);
Sign-in allowed off or deleted: no sign-in; an imported Dovecot hash signs in and is replaced
by Argon2id (SPEC §16)."""

import pytest
from django.test import Client

from adminpanel.audit.models import Event
from adminpanel.mail import mailbox_csv
from adminpanel.mail import services as mail
from adminpanel.mail.models import Mailbox
from adminpanel.owners.models import OwnerSession
from tests.integration.panel import ADMIN_PASSWORD, log_in, text
from tests.mailserver.mail import dovecot_hash
from tests.owners import (
    OWNER_PASSWORD,
    owner_log_in,
    owner_signed_in,
    owner_verify,
    owner_with_2fa,
)

pytestmark = pytest.mark.django_db

INVALID = "Invalid email address or password."
ADDRESS = "ann@owners.example"


@pytest.fixture
def box(admin) -> Mailbox:
    mail.create_domain(admin, name="owners.example")
    return mail.create_mailbox(admin, address=ADDRESS, password=OWNER_PASSWORD)


def test_the_sign_in_page_has_email_address_password_and_log_in(client):
    page = text(client.get("/mailbox/login"))
    assert '<label for="id_username">Email address</label>' in page
    assert '<label for="id_password">Password</label>' in page
    assert ">Log in</button>" in page and "My mailbox" in page


def test_an_owner_without_2fa_signs_in_and_sees_the_home(client, box):
    response = owner_log_in(client, "ANN@Owners.Example")
    assert response.status_code == 302 and response.url == "/mailbox/"
    page = text(client.get("/mailbox/"))
    assert ADDRESS in page and "Storage" in page and "Last sign-ins of mail apps" in page
    login = Event.objects.get(event="mailbox_login")
    assert login.actor_name == ADDRESS and login.actor is None
    assert OwnerSession.objects.filter(mailbox=box).count() == 1


@pytest.mark.parametrize(
    "address",
    [
        "nobody@owners.example",
        "ann@other.example",
        "ann",
        "ann\0@owners.example",
        "ann'--@owners.example",
        '"ann"@owners.example',
        "%@owners.example",
        "_nn@owners.example",
        "a" * 5000 + "@owners.example",
        "ännä@owners.example",
        "ann@öwners.example",
    ],
)
def test_a_wrong_or_strange_address_gets_the_one_message_and_no_session(client, box, address):
    response = owner_log_in(client, address)
    assert response.status_code in (200, 400)
    assert INVALID in text(response)
    assert not owner_signed_in(client)


def test_a_wrong_password_gets_the_same_message_and_is_logged(client, box):
    assert INVALID in text(owner_log_in(client, ADDRESS, "not-the-password"))
    assert Event.objects.get(event="mailbox_login_failed").actor_name == ADDRESS


def test_with_2fa_the_pop_up_asks_for_the_code_and_the_code_signs_in_once(client, box, clock):
    owner = owner_with_2fa(box, clock)
    response = owner_log_in(client, ADDRESS)
    assert response.url == "/mailbox/login"
    page = text(client.get("/mailbox/login"))
    assert "Two-factor authentication" in page and 'autocomplete="one-time-code"' in page
    assert not owner_signed_in(client)
    code = owner.next_code()
    assert owner_verify(client, code).url == "/mailbox/"
    assert owner_signed_in(client)
    other = Client()
    owner_log_in(other, ADDRESS)
    assert "already been used" in text(owner_verify(other, code)) or not owner_signed_in(other)
    assert not owner_signed_in(other)


def test_a_recovery_code_signs_in(client, box, clock):
    owner = owner_with_2fa(box, clock)
    owner_log_in(client, ADDRESS)
    assert owner_verify(client, owner.recovery_codes[0]).url == "/mailbox/"


def test_the_owners_address_is_throttled_after_many_failures(client, box):
    for _ in range(10):
        owner_log_in(client, ADDRESS, "wrong-password-again")
    refused = owner_log_in(client, ADDRESS)
    assert refused.status_code == 429 and "Too many attempts" in text(refused)
    assert not owner_signed_in(client)


def test_an_owners_session_opens_no_admin_page_nor_the_api(client, box, admin):
    owner_log_in(client, ADDRESS)
    assert owner_signed_in(client)
    for path in ["/", "/users", "/domains", "/security/2fa", "/security/sessions", "/logs"]:
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith("/login"), path
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/users").status_code == 401


def test_an_admins_session_opens_no_my_mailbox_page(client, box, admin):
    assert log_in(client, "admin", ADMIN_PASSWORD).url == "/"
    response = client.get("/mailbox/")
    assert response.status_code == 302 and response.url.startswith("/mailbox/login")


def test_signing_in_as_owner_ends_the_admin_session_in_that_browser(client, box, admin):
    log_in(client, "admin", ADMIN_PASSWORD)
    owner_log_in(client, ADDRESS)
    assert owner_signed_in(client)
    assert client.get("/").status_code == 302


def test_sign_in_allowed_off_refuses_after_the_right_password(client, box, admin):
    mail.update_mailbox(admin, box, sign_in_allowed=False)
    response = owner_log_in(client, ADDRESS)
    assert "Signing in to this mailbox is turned off" in text(response)
    assert INVALID in text(owner_log_in(client, ADDRESS, "not-the-password"))
    assert not owner_signed_in(client)


def test_turning_sign_in_off_ends_a_signed_in_owners_session(client, box, admin):
    owner_log_in(client, ADDRESS)
    mail.update_mailbox(admin, box, sign_in_allowed=False)
    response = client.get("/mailbox/")
    assert response.status_code == 302 and response.url.startswith("/mailbox/login")


def test_a_deleted_mailbox_cannot_sign_in(client, box, admin):
    owner_log_in(client, ADDRESS)
    mail.delete_mailbox(admin, box)
    assert not owner_signed_in(client)
    assert INVALID in text(owner_log_in(Client(), ADDRESS))


def test_log_out_ends_the_session(client, box):
    owner_log_in(client, ADDRESS)
    assert client.post("/mailbox/logout").url == "/mailbox/login"
    assert not owner_signed_in(client)
    assert not OwnerSession.objects.exists()
    assert Event.objects.filter(event="mailbox_logout", actor_name=ADDRESS).exists()


def test_a_next_url_outside_my_mailbox_is_not_followed(client, box):
    response = client.post(
        "/mailbox/login?next=/subadmins", {"username": ADDRESS, "password": OWNER_PASSWORD}
    )
    assert response.url == "/mailbox/"


@pytest.mark.parametrize("scheme", ["SHA512-CRYPT", "BLF-CRYPT", "ARGON2ID"])
def test_an_imported_hash_signs_in_and_is_replaced_by_argon2id(client, admin, scheme):
    mail.create_domain(admin, name="owners.example")
    old = "Old-Service-Password-31"
    hashed = dovecot_hash(scheme, old)
    text_csv = f'address,display_name,password,quota_mb\n{ADDRESS},,"{hashed}",\n'
    assert mailbox_csv.import_mailboxes(admin, text_csv, dry_run=False).ok
    assert INVALID in text(owner_log_in(client, ADDRESS, "Not-The-Old-Password-1"))
    assert Mailbox.objects.get().password_hash == hashed
    assert owner_log_in(client, ADDRESS, old).url == "/mailbox/"
    stored = Mailbox.objects.get().password_hash
    assert stored.startswith("argon2$argon2id$")
    assert Event.objects.get(event="mailbox_password_rehashed").details["scheme"] == scheme
    assert owner_log_in(Client(), ADDRESS, old).url == "/mailbox/"  # the same password
