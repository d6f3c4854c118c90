"""SPEC §11: security keys and passkeys, with real signatures from a software key.

The test client talks to http://testserver, so the relying party is `testserver` and the
origin `http://testserver` (tests/integration/keys.py).
"""

import json
import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from adminpanel.accounts.models import ApiToken
from adminpanel.audit.models import Event
from adminpanel.twofactor import services as twofactor
from adminpanel.twofactor.models import RecoveryCode, WebAuthnChallenge, WebAuthnKey
from tests.integration import panel
from tests.integration.keys import BAD_ANSWERS, ORIGIN, add_key, options, passkey, use_key
from tests.integration.panel import (
    PASSWORD,
    RECOVERY_CODE,
    failures,
    is_logged_in,
    log_in,
    text,
    verify,
)
from tests.softkey import SoftKey

pytestmark = pytest.mark.django_db

NOT_REGISTERED = "This security key is not registered for this account."


# --- what a browser does ---------------------------------------------------------------------


def refusals(reason: str) -> list[Event]:
    return [e for e in Event.objects.filter(event="2fa_failed") if e.details["reason"] == reason]


@pytest.fixture
def pending(alice_key) -> Client:
    """A visitor who passed Alice's password step and sees the pop-up."""
    client = Client()
    assert log_in(client).url == "/login"
    return client


# --- registering ----------------------------------------------------------------------------


def test_adding_the_first_key_enables_2fa_and_shows_10_recovery_codes(logged_in, key, alice):
    response = add_key(logged_in, key)
    page = text(response)
    assert "Security key “YubiKey 5” added." in page
    assert "Two-factor authentication is enabled." in page
    assert len(RECOVERY_CODE.findall(response.content.decode())) == 10
    assert RecoveryCode.objects.filter(person=alice.person).count() == 10
    assert [e.details["name"] for e in Event.objects.filter(event="webauthn_key_added")] == [
        "YubiKey 5"
    ]
    assert Event.objects.filter(event="2fa_enabled", details__method="key").count() == 1


def test_a_second_key_issues_no_new_recovery_codes(logged_in, alice_key, alice):
    before = set(
        RecoveryCode.objects.filter(person=alice.person).values_list("code_hash", flat=True)
    )
    response = add_key(logged_in, SoftKey(ORIGIN), "Backup key")
    assert response.status_code == 302
    assert "Security key “Backup key” added." in text(logged_in.get("/security/2fa"))
    after = set(
        RecoveryCode.objects.filter(person=alice.person).values_list("code_hash", flat=True)
    )
    assert before == after


def test_the_list_shows_each_key_with_added_and_last_used(logged_in, alice_key):
    page = text(logged_in.get("/security/2fa"))
    assert '<h2 id="keys-title">Security keys</h2>' in page
    assert "<td>YubiKey 5</td>" in page and "Never" in page
    assert ">Remove</a>" in page
    assert '<label for="id_key_name">Key name</label>' in page
    assert ">Add security key</button>" in page


def test_the_status_says_enabled_with_a_security_key(logged_in, alice_key):
    page = text(logged_in.get("/security/2fa"))
    assert "Two-factor authentication is enabled." in page
    assert "With a security key" in page


def test_a_key_already_registered_is_refused(logged_in, alice_key, alice):
    existing = next(iter(alice_key.credentials.values()))
    answer = alice_key.create(options(logged_in, "register", name="Again"), credential=existing)
    response = logged_in.post(
        "/security/2fa/keys/add", {"name": "Again", "credential": json.dumps(answer)}
    )
    assert response.status_code == 302
    assert "This security key is already registered." in text(logged_in.get("/security/2fa"))
    assert WebAuthnKey.objects.filter(person=alice.person).count() == 1


# --- logging in with a key ------------------------------------------------------------------


def test_the_popup_offers_use_security_key(pending):
    page = text(pending.get("/login"))
    assert "Two-factor authentication" in page
    assert ">Use security key</button>" in page.replace("</svg>", "")
    assert '<label for="id_challenge">Challenge</label>' in page  # recovery codes still work


def test_the_popup_of_an_app_only_account_has_no_key_button(alice_2fa):
    client = Client()
    log_in(client)
    assert "Use security key" not in text(client.get("/login"))


def test_password_and_key_log_in(pending, alice_key):
    response = use_key(pending, alice_key.get(options(pending, "login")))
    assert response.status_code == 302 and response.url == "/"
    assert is_logged_in(pending)
    used = Event.objects.get(event="webauthn_key_used")
    assert used.details["purpose"] == "login" and used.details["name"] == "YubiKey 5"
    assert Event.objects.filter(event="web_login", details__two_factor=True).count() == 1


def test_the_list_shows_when_a_key_was_last_used(pending, alice_key, alice):
    use_key(pending, alice_key.get(options(pending, "login")))
    assert WebAuthnKey.objects.get(person=alice.person).last_used_at is not None
    assert "Never" not in text(pending.get("/security/2fa"))


def test_a_recovery_code_still_logs_in_an_account_with_only_keys(logged_in, key):
    codes = RECOVERY_CODE.findall(add_key(logged_in, key).content.decode())
    client = Client()
    log_in(client)
    assert verify(client, codes[0]).url == "/"


def test_a_six_digit_code_for_an_account_without_an_app_says_so(pending):
    response = verify(pending, "123456")
    assert "This account has no authenticator app." in text(response)
    assert not is_logged_in(pending)


def test_without_a_pending_password_step_a_key_answer_is_refused(alice_key):
    client = Client()
    response = client.post("/webauthn/options", {"purpose": "login"})
    assert response.status_code == 403
    assert response.json()["message"] == "Enter your username and password first."
    assert use_key(client, {"id": "x"}).url == "/login"


# --- sign in with a passkey -----------------------------------------------------------------


def test_the_login_page_offers_sign_in_with_a_passkey(client):
    assert "Sign in with a passkey</button>" in text(client.get("/login"))


def test_a_passkey_signs_in_without_a_password(alice_key):
    client = Client()
    challenge = options(client, "passkey")
    assert challenge["allowCredentials"] == [] and challenge["userVerification"] == "required"
    response = passkey(client, alice_key.get(challenge))
    assert response.status_code == 302 and response.url == "/"
    assert is_logged_in(client)
    assert Event.objects.filter(event="passkey_sign_in").count() == 1


def test_a_passkey_without_user_verification_is_refused(alice_key):
    client = Client()
    alice_key.user_verified = False
    response = passkey(client, alice_key.get(options(client, "passkey")))
    assert NOT_REGISTERED not in text(response)
    assert "could not be verified" in text(response)
    assert not is_logged_in(client)


def test_an_unregistered_passkey_is_refused(alice_key):
    client = Client()
    stranger = SoftKey(ORIGIN)  # a credential for this site that the panel never registered
    stranger.create({"rp": {"id": "testserver"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
    response = passkey(client, stranger.get(options(client, "passkey")))
    assert "This passkey is not registered here." in text(response)
    assert not is_logged_in(client)
    assert Event.objects.filter(event="passkey_login_failed").count() == 1


def test_a_passkey_of_an_api_only_account_is_refused(alice, alice_key):
    alice.web_access = False
    alice.api_access = True
    alice.save()
    client = Client()
    response = passkey(client, alice_key.get(options(client, "passkey")))
    assert "This account can only be used with the API." in text(response)
    assert not is_logged_in(client)


def test_asking_for_a_passkey_challenge_stores_no_session_and_no_challenge(db):
    """Anonymous visitors may ask any number of times: nothing is written until an answer."""
    client = Client()
    for _ in range(5):
        assert options(client, "passkey")["userVerification"] == "required"
    assert not Session.objects.exists()
    assert not WebAuthnChallenge.objects.exists()


def test_a_passkey_answer_from_a_browser_without_its_challenge_is_refused(alice_key):
    answer = alice_key.get(options(Client(), "passkey"))
    other = Client()
    options(other, "passkey")  # a challenge of its own, not the one signed
    response = passkey(other, answer)
    assert "This request was replaced or has ended." in text(response)
    assert not is_logged_in(other)


# --- the rules: each refused with a clear message and logged ---------------------------------


def test_a_replayed_assertion_is_refused(alice_key):
    client = Client()
    answer = alice_key.get(options(client, "passkey"))
    assert passkey(client, answer).url == "/"
    response = passkey(client, answer)  # the same signed answer again, in the same session
    assert "This security key answer has already been used." in text(response)
    assert Event.objects.filter(event="passkey_sign_in").count() == 1
    assert refusals("replayed")


def test_a_replayed_assertion_from_another_browser_is_refused(pending, alice_key):
    answer = alice_key.get(options(pending, "login"))
    assert use_key(pending, answer).url == "/"
    other = Client()
    log_in(other)
    response = use_key(other, answer)
    assert "This answer belongs to another session." in text(response)
    assert not is_logged_in(other)


def test_a_challenge_older_than_5_minutes_is_refused(pending, alice_key, clock):
    answer = alice_key.get(options(pending, "login"))
    clock.advance(minutes=4, seconds=59)
    log_in(pending)  # the password step is renewed; the challenge is not
    clock.advance(seconds=2)
    response = use_key(pending, answer)
    assert "The security key request expired (5 minutes)." in text(response)
    assert not is_logged_in(pending)
    assert refusals("expired")


def test_a_challenge_from_another_session_is_refused(pending, alice_key):
    thief = Client()
    log_in(thief)
    answer = alice_key.get(options(pending, "login"))  # made for the first session
    response = use_key(thief, answer)
    assert "This answer belongs to another session." in text(response)
    assert not is_logged_in(thief)
    assert refusals("other_session")


def test_a_wrong_origin_is_refused(pending, alice_key):
    answer = alice_key.get(options(pending, "login"), origin="https://panel.example.evil")
    response = use_key(pending, answer)
    assert "This answer was made for another web address, not this panel." in text(response)
    assert not is_logged_in(pending)
    assert refusals("wrong_origin")


def test_a_signature_counter_going_backwards_is_refused_and_logged(pending, alice_key):
    alice_key.get(options(pending, "login"), sign_count=7)  # the key was used elsewhere
    assert use_key(pending, alice_key.get(options(pending, "login"), sign_count=8)).url == "/"
    client = Client()
    log_in(client)
    response = use_key(client, alice_key.get(options(client, "login"), sign_count=3))
    assert "signature counter went backwards" in text(response)
    assert not is_logged_in(client)
    regressed = Event.objects.get(event="webauthn_counter_regressed")
    assert regressed.details["stored"] == 8 and regressed.details["received"] == 3
    assert refusals("counter_regressed")


def test_a_credential_of_another_account_is_refused(pending, alice_key, make_account):
    bob = Client()
    make_account("bob")
    log_in(bob, "bob")
    bobs_key = SoftKey(ORIGIN)
    add_key(bob, bobs_key, "Bob's key")
    challenge = options(pending, "login")
    answer = bobs_key.get(challenge)  # Bob's key answers Alice's login
    response = use_key(pending, answer)
    assert NOT_REGISTERED in text(response)
    assert not is_logged_in(pending)
    assert refusals("other_account")


def test_key_failures_count_in_the_same_throttle_as_codes(pending, alice_key, alice):
    for _ in range(5):
        use_key(pending, alice_key.get(options(pending, "login"), origin="https://evil.test"))
    assert failures(alice) == 5
    response = use_key(pending, alice_key.get(options(pending, "login")))
    assert response.status_code == 429
    assert "Too many failed attempts. Try again in" in text(response)
    assert not is_logged_in(pending)


# --- removing keys and turning 2FA off -------------------------------------------------------


def test_removing_one_of_two_keys(logged_in, alice_key, alice):
    add_key(logged_in, SoftKey(ORIGIN), "Backup key")
    first = WebAuthnKey.objects.filter(person=alice.person).first()
    page = text(logged_in.get(f"/security/2fa/keys/{first.pk}/remove"))
    assert "Remove the security key <strong>YubiKey 5</strong>?" in page
    response = logged_in.post(f"/security/2fa/keys/{first.pk}/remove")
    assert response.url == "/security/2fa"
    assert "Security key “YubiKey 5” removed." in text(logged_in.get("/security/2fa"))
    assert [k.name for k in WebAuthnKey.objects.filter(person=alice.person)] == ["Backup key"]
    assert Event.objects.filter(event="webauthn_key_removed").count() == 1


def test_removing_the_last_key_is_disabling_2fa(logged_in, alice_key, alice):
    only = WebAuthnKey.objects.get(person=alice.person)
    response = logged_in.post(f"/security/2fa/keys/{only.pk}/remove")
    assert response.url == "/security/2fa/disable"
    page = text(logged_in.get(response.url))
    assert "This is your last second factor" in page
    assert ">Use security key</button>" in page.replace("</svg>", "")
    assert WebAuthnKey.objects.filter(person=alice.person).count() == 1


def test_disabling_with_a_key_removes_every_factor(logged_in, alice_key, alice):
    answer = alice_key.get(options(logged_in, "disable"))
    response = logged_in.post("/security/2fa/disable/key", {"credential": json.dumps(answer)})
    assert response.url == "/security/2fa"
    page = text(logged_in.get("/security/2fa"))
    assert "Two-factor authentication is disabled." in page
    assert "You can now delete the entry from your 2FA app." in page
    assert not WebAuthnKey.objects.filter(person=alice.person).exists()
    assert not RecoveryCode.objects.filter(person=alice.person).exists()


def test_disabling_with_a_recovery_code_removes_the_keys(logged_in, key, alice):
    codes = RECOVERY_CODE.findall(add_key(logged_in, key).content.decode())
    logged_in.post("/security/2fa/disable", {"challenge": codes[0]})
    assert not WebAuthnKey.objects.filter(person=alice.person).exists()


def test_reset_2fa_removes_the_keys(alice_key, alice):
    twofactor.reset(alice, actor_name="operator")
    assert not WebAuthnKey.objects.filter(person=alice.person).exists()


# --- bad input: a clear message, nothing stored, never a 500 ---------------------------------


@pytest.mark.parametrize("answer", BAD_ANSWERS, ids=range(len(BAD_ANSWERS)))
def test_a_garbage_registration_answer_stores_nothing(logged_in, alice, answer):
    options(logged_in, "register", name="Mine")
    response = logged_in.post("/security/2fa/keys/add", {"name": "Mine", "credential": answer})
    assert response.status_code == 302
    page = text(logged_in.get("/security/2fa"))
    assert "could not be read" in page or "could not be verified" in page
    assert not WebAuthnKey.objects.exists() and not RecoveryCode.objects.exists()


@pytest.mark.parametrize("answer", BAD_ANSWERS, ids=range(len(BAD_ANSWERS)))
def test_a_garbage_login_answer_is_refused_without_counting(pending, alice, answer):
    response = pending.post("/login/key", {"credential": answer})
    assert response.status_code == 200
    assert "could not be read" in text(response)
    assert failures(alice) == 0 and not is_logged_in(pending)


@pytest.mark.parametrize("answer", BAD_ANSWERS, ids=range(len(BAD_ANSWERS)))
def test_a_garbage_passkey_answer_is_refused(client, answer):
    response = client.post("/login/passkey", {"credential": answer})
    assert response.status_code == 200 and "could not be read" in text(response)


def test_an_unknown_credential_id_is_refused(pending, alice_key):
    answer = alice_key.get(options(pending, "login"))
    answer["id"] = answer["rawId"] = "AAAAAAAAAAAAAAAAAAAAAA"
    response = use_key(pending, answer)
    assert NOT_REGISTERED in text(response)
    assert not is_logged_in(pending)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x" * 10_000, "A key name has at most 64 characters."),
        ("Yubi\x07key", "A key name cannot contain control characters."),
        ("Yubi\u202ekey", "A key name cannot contain control characters."),
        ("Yubi\x00key", "A key name cannot contain control characters."),
        ("   ", "Enter a name for this key"),
    ],
    ids=["10000-chars", "bell", "bidi-override", "nul", "blank"],
)
def test_a_bad_key_name_is_refused_before_the_prompt_and_after(logged_in, key, name, message):
    refused = logged_in.post("/webauthn/options", {"purpose": "register", "name": name})
    assert refused.status_code == 400 and message in refused.json()["message"]
    answer = key.create(options(logged_in, "register", name="Fine"))
    response = logged_in.post(
        "/security/2fa/keys/add", {"name": name, "credential": json.dumps(answer)}
    )
    assert response.status_code == 302
    assert message in text(logged_in.get("/security/2fa"))
    assert not WebAuthnKey.objects.exists()


def test_an_unknown_purpose_is_refused(logged_in):
    response = logged_in.post("/webauthn/options", {"purpose": "everything"})
    assert response.status_code == 400 and response.json()["error"] == "malformed"


def test_a_panel_reached_by_ip_address_says_keys_need_a_host_name(logged_in):
    response = logged_in.post(
        "/webauthn/options", {"purpose": "register", "name": "Mine"}, HTTP_HOST="127.0.0.1"
    )
    assert response.status_code == 403
    assert response.json()["message"] == (
        "Security keys and passkeys need a host name, not an IP address: open http://localhost/."
    )
    assert not WebAuthnChallenge.objects.exists()


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("127.0.0.1:8000", 'open <a href="http://localhost:8000/login">'),
        ("[::1]:8123", 'open <a href="http://localhost:8123/login">'),
        ("192.0.2.7", "open the panel by its host name"),
    ],
)
def test_the_login_page_says_before_the_click_where_passkeys_work(db, settings, host, said):
    settings.ALLOWED_HOSTS = ["*"]
    page = text(Client().get("/login", HTTP_HOST=host))
    assert said in page
    assert "Sign in with a passkey</button>" not in page


def test_the_login_page_offers_passkeys_by_a_host_name(db):
    page = text(Client().get("/login", HTTP_HOST="localhost:8000"))
    assert "Sign in with a passkey</button>" in page and "need a host name" not in page


def test_adding_the_first_key_ends_the_other_sessions(logged_in, key, alice):
    other = Client()
    assert log_in(other).url == "/"
    add_key(logged_in, key)
    assert is_logged_in(logged_in)
    assert not is_logged_in(other)


def test_disabling_with_a_key_ends_the_other_sessions(logged_in, alice_key):
    other = Client()
    log_in(other)
    use_key(other, alice_key.get(options(other, "login")))
    assert is_logged_in(other)
    answer = alice_key.get(options(logged_in, "disable"))
    logged_in.post("/security/2fa/disable/key", {"credential": json.dumps(answer)})
    assert is_logged_in(logged_in)
    assert not is_logged_in(other)


def test_adding_the_first_key_revokes_the_api_tokens(alice, key):
    alice.api_access = True
    alice.save()
    api = Client()
    login = api.post(
        "/api/v1/auth/login",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    )
    token = login.json()["token"]
    web = Client()
    log_in(web)
    add_key(web, key)
    assert ApiToken.objects.filter(account=alice, revoked_at__isnull=True).count() == 0
    me = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 401
    refused = api.post(
        "/api/v1/auth/login",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    )
    assert refused.status_code == 403 and refused.json()["error"] == "two_factor_enabled"


# --- where the methods show ---------------------------------------------------------------


@pytest.fixture
def admin_and_keyed_subadmin(clock):
    """The Admin (no 2FA) and a Sub-Admin "carol" whose 2FA is a security key."""
    admin = panel.make_admin()
    panel.make_subadmin(admin, "carol")
    carol = panel.signed_in("carol")
    add_key(carol, SoftKey(ORIGIN))
    return admin


def test_the_subadmin_list_and_the_overview_show_the_methods(admin_and_keyed_subadmin):
    browser = panel.log_in_admin()
    for url in ("/subadmins", "/"):
        row = re.search(
            r"<tr>(?:(?!</tr>).)*carol(?:(?!</tr>).)*</tr>", text(browser.get(url)), re.S
        )
        assert row and "Enabled" in row.group(0) and "Security key" in row.group(0), url


def test_the_api_shows_the_methods(admin_and_keyed_subadmin):
    api = Client()
    login = api.post(
        "/api/v1/auth/login",
        {"username": "admin", "password": panel.ADMIN_PASSWORD},
        content_type="application/json",
    )
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {login.json()['token']}"}
    listed = api.get("/api/v1/subadmins", **bearer).json()["items"]
    assert [(s["username"], s["two_factor_enabled"], s["two_factor_methods"]) for s in listed] == [
        ("carol", True, ["key"])
    ]
    assert api.get("/api/v1/me", **bearer).json()["two_factor_methods"] == []


# --- around the keys: confirm access and the 2FA policy (SPEC §12) -------------------------


def test_adding_a_key_needs_a_recent_sign_in(logged_in, key, clock):
    clock.advance(minutes=11)
    refused = logged_in.post("/webauthn/options", {"purpose": "register", "name": "Late"})
    assert refused.status_code == 403
    assert refused.json()["confirm_url"] == (
        "/security/confirm?next=%2Fsecurity%2F2fa%3Fkey_name%3DLate"  # the name kept
    )
    response = logged_in.post("/security/2fa/keys/add", {"name": "Late", "credential": "{}"})
    assert response.url == "/security/confirm?next=%2Fsecurity%2F2fa%3Fkey_name%3DLate"
    assert not WebAuthnKey.objects.exists()


def test_a_subadmin_who_must_have_2fa_can_add_a_key(clock):
    admin = panel.make_admin()
    panel.make_subadmin(admin, "dave", require_2fa=True)
    dave = panel.signed_in("dave")
    assert dave.get("/domains").status_code == 302  # the gate: only Security → 2FA
    codes = RECOVERY_CODE.findall(add_key(dave, SoftKey(ORIGIN)).content.decode())
    assert len(codes) == 10
    assert WebAuthnKey.objects.filter(person__account__username="dave").count() == 1


def test_confirm_access_accepts_a_key(logged_in, alice_key, clock):
    clock.advance(minutes=11)
    page = text(logged_in.get("/security/confirm?next=/security/2fa"))
    assert ">Use security key</button>" in page.replace("</svg>", "")
    answer = alice_key.get(options(logged_in, "confirm"))
    response = logged_in.post(
        "/security/confirm",
        {"password": PASSWORD, "credential": json.dumps(answer), "next": "/security/2fa"},
    )
    assert response.status_code == 302 and response.url == "/security/2fa"
    assert Event.objects.filter(event="access_confirmed", details__two_factor=True).count() == 1
    assert Event.objects.get(event="webauthn_key_used").details["purpose"] == "confirm"


def test_confirm_access_refuses_a_key_of_another_session(logged_in, alice_key, clock):
    clock.advance(minutes=11)
    other = Client()
    log_in(other)
    answer = alice_key.get(options(other, "login"))
    response = logged_in.post(
        "/security/confirm",
        {"password": PASSWORD, "credential": json.dumps(answer), "next": "/security/2fa"},
    )
    assert "This answer belongs to another session." in text(response)
    assert not Event.objects.filter(event="access_confirmed").exists()


# --- which keys are passkeys (issue 21 item 12) ---------------------------------------------


def key_rows(client: Client) -> list[str]:
    page = text(client.get("/security/2fa"))
    table = page[page.index("Your security keys") :]
    return re.findall(r"<tr>\s*<td>.*?</tr>", table[: table.index("</table>")], re.S)


def test_the_keys_list_says_which_keys_are_passkeys(logged_in):
    """The browser's credProps says the key keeps the account: a passkey; else a plain key."""
    plain, phone = SoftKey(ORIGIN), SoftKey(ORIGIN)
    assert add_key(logged_in, plain, "YubiKey").status_code == 200
    answer = phone.create(options(logged_in, "register", name="Phone"))
    answer["clientExtensionResults"] = {"credProps": {"rk": True}}
    logged_in.post("/security/2fa/keys/add", {"name": "Phone", "credential": json.dumps(answer)})
    rows = key_rows(logged_in)
    assert len(rows) == 2
    yubikey, phone_row = rows
    assert '<td data-label="Kind"><span>Security key</span></td>' in yubikey
    assert '<span class="badge ok">Passkey</span>' in phone_row
    assert "Passkey" not in yubikey


def test_a_key_that_signs_in_as_a_passkey_is_listed_as_one(alice_key):
    """A key registered without credProps (an older browser) that signs in without a password
    is a passkey from then on."""
    client = Client()
    assert passkey(client, alice_key.get(options(client, "passkey"))).url == "/"
    (row,) = key_rows(client)
    assert '<span class="badge ok">Passkey</span>' in row
