"""SPEC §12 "Confirm access": sensitive actions need an authentication of the last 10 minutes."""

import re
from urllib.parse import urlencode

import pytest
from django.test import Client

from adminpanel.accounts import policy
from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from adminpanel.twofactor import interface as twofactor
from tests.integration.panel import PASSWORD, log_in, text, verify

pytestmark = pytest.mark.django_db

WRONG = "wrong-password-123"


@pytest.fixture
def admin(make_account) -> Account:
    return make_account("admin", is_owner=True)


@pytest.fixture
def bob(admin, make_account) -> Account:
    return make_account("bob")


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    assert log_in(client, "admin").url == "/"
    return client


def confirm(client: Client, password: str = PASSWORD, challenge: str = "", next_url: str = "/"):
    data = {"password": password, "challenge": challenge, "next": next_url}
    return client.post("/security/confirm", data)


def sensitive_pages(bob: Account) -> list[str]:
    return [
        "/security/password",
        "/security/profile",
        "/security/policy",
        "/security/2fa/enable",
        "/security/2fa/setup",
        "/subadmins/add",
        f"/subadmins/{bob.pk}",
        f"/subadmins/{bob.pk}/delete",
    ]


# --- when it is asked ------------------------------------------------------------------------


def test_within_10_minutes_of_the_login_nothing_more_is_asked(admin_client, bob, clock):
    clock.advance(minutes=9, seconds=59)
    for url in sensitive_pages(bob):
        response = admin_client.get(url)
        assert not (response.status_code == 302 and response.url.startswith("/security/confirm"))


def test_after_10_minutes_each_sensitive_action_asks_to_confirm_access(admin_client, bob, clock):
    clock.advance(minutes=10, seconds=1)
    for url in sensitive_pages(bob):
        response = admin_client.get(url)
        assert response.status_code == 302
        assert response.url == f"/security/confirm?next={url.replace('/', '%2F')}"


def test_disabling_2fa_and_new_recovery_codes_ask_too(alice_2fa, clock):
    client = Client()
    log_in(client)
    verify(client, alice_2fa.next_code())
    clock.advance(minutes=11)
    for url in ("/security/2fa/disable", "/security/2fa/recovery-codes"):
        assert client.get(url).url.startswith("/security/confirm?next=")


def test_a_post_without_a_fresh_authentication_changes_nothing(
    admin_client, bob, enable_2fa, clock
):
    enable_2fa(bob)
    clock.advance(minutes=11)
    response = admin_client.post(f"/subadmins/{bob.pk}/reset-2fa")
    assert response.url.startswith("/security/confirm?next=")
    assert twofactor.is_enabled(bob)


def test_stale_changes_to_profile_and_policy_change_nothing_before_confirming(
    admin_client, admin, clock
):
    clock.advance(minutes=11)
    response = admin_client.post("/security/policy", {"require_2fa_for_subadmins": "on"})
    assert response.url == "/security/confirm?next=%2Fsecurity%2Fpolicy"
    response = admin_client.post("/security/profile", {"email": "", "allowed_ips": "10.0.0.0/8"})
    assert response.url.startswith("/security/confirm?next=")
    admin.refresh_from_db()
    assert admin.allowed_ips == []
    assert policy.current().require_2fa_for_subadmins is False
    assert not Event.objects.filter(event__in=("policy_changed", "profile_updated")).exists()


def test_a_post_that_needed_confirmation_is_carried_out_after_confirming(admin_client, clock):
    clock.advance(minutes=11)
    admin_client.post("/security/policy", {"require_2fa_for_subadmins": "on"})
    page = text(admin_client.get("/security/confirm?next=/security/policy"))
    assert "To <strong>change the 2FA policy for Sub-Admins</strong>, confirm it is you" in page
    assert "What you entered is kept and saved once you confirm." in page
    assert confirm(admin_client, next_url="/security/policy").url == "/security/policy"
    response = admin_client.get("/security/policy")  # where Confirm access leads back
    assert response.status_code == 302 and response.url == "/security/policy"
    assert policy.current().require_2fa_for_subadmins is True
    assert "The policy was saved." in text(admin_client.get("/security/policy"))
    # Carried out once: the next visit just shows the page.
    assert admin_client.get("/security/policy").status_code == 200


def test_an_unticked_box_is_carried_out_too(admin_client, clock):
    assert admin_client.post("/security/policy", {"require_2fa_for_subadmins": "on"}).status_code
    clock.advance(minutes=11)
    admin_client.post("/security/policy", {})  # the box unticked
    confirm(admin_client, next_url="/security/policy")
    admin_client.get("/security/policy")
    assert policy.current().require_2fa_for_subadmins is False


def test_a_refused_resumed_form_comes_back_with_what_was_typed(admin_client, admin, clock):
    clock.advance(minutes=11)
    admin_client.post("/security/profile", {"email": "", "allowed_ips": "10.0.0.0/8"})
    page = text(admin_client.get("/security/confirm?next=/security/profile"))
    assert "To <strong>change your profile (the notice e-mail, Allowed IPs)</strong>" in page
    confirm(admin_client, next_url="/security/profile")
    response = admin_client.get("/security/profile")
    assert response.status_code == 400  # this address is not in the list: refused, as typed
    assert ">\n10.0.0.0/8</textarea>" in text(response)
    admin.refresh_from_db()
    assert admin.allowed_ips == []


def test_the_key_name_typed_is_kept_through_confirm_access(logged_in, clock):
    clock.advance(minutes=11)
    answer = logged_in.post("/webauthn/options", {"purpose": "register", "name": "Blue key"})
    assert answer.status_code == 403
    back = "/security/2fa?key_name=Blue+key"
    assert answer.json()["confirm_url"] == f"/security/confirm?{urlencode({'next': back})}"
    assert "To <strong>add a security key</strong>" in text(
        logged_in.get(answer.json()["confirm_url"])
    )
    assert confirm(logged_in, next_url=back).url == back
    page = text(logged_in.get(back))
    assert re.search(r'<input[^>]*name="name"[^>]*value="Blue key"', page)


def test_pages_that_change_nothing_do_not_ask(admin_client, clock):
    clock.advance(minutes=11)
    for url in ("/", "/subadmins", "/security/2fa", "/security/sessions"):
        assert admin_client.get(url).status_code == 200, url


# --- the page --------------------------------------------------------------------------------


def test_the_page_is_titled_confirm_access_and_asks_for_the_password(logged_in):
    page = text(logged_in.get("/security/confirm?next=/security/password"))
    assert "<title>Confirm access · Admin Panel</title>" in page
    assert "<h1>Confirm access</h1>" in page
    assert '<label for="id_password">Password</label>' in page
    assert "Challenge" not in page  # no 2FA, no code


def test_with_2fa_the_page_asks_for_a_code_too(logged_in_2fa):
    page = text(logged_in_2fa.get("/security/confirm"))
    assert '<label for="id_password">Password</label>' in page
    assert '<label for="id_challenge">Challenge</label>' in page


def test_the_right_password_leads_back_and_counts_for_10_minutes(logged_in, clock):
    clock.advance(minutes=30)
    response = confirm(logged_in, next_url="/security/password")
    assert response.url == "/security/password"
    clock.advance(minutes=9)
    assert logged_in.get("/security/password").status_code == 200
    clock.advance(minutes=2)
    assert logged_in.get("/security/password").url.startswith("/security/confirm")


def test_a_wrong_password_is_refused_and_logged(logged_in, clock):
    clock.advance(minutes=11)
    response = confirm(logged_in, WRONG, next_url="/security/password")
    assert response.status_code == 200
    assert "Wrong password." in text(response)
    assert logged_in.get("/security/password").url.startswith("/security/confirm")
    failed = Event.objects.get(event="access_confirm_failed")
    assert failed.actor_name == "alice" and failed.details["reason"] == "password"


def test_with_2fa_the_password_alone_is_not_enough(logged_in_2fa, alice_2fa, clock):
    clock.advance(minutes=11)
    response = confirm(logged_in_2fa)
    assert "Enter the 6-digit code" in text(response)
    response = confirm(logged_in_2fa, challenge=alice_2fa.wrong_code())
    assert "Invalid code." in text(response)
    assert logged_in_2fa.get("/security/password").url.startswith("/security/confirm")


def test_with_2fa_the_password_and_a_code_confirm_access_and_are_logged(
    logged_in_2fa, alice_2fa, clock
):
    clock.advance(minutes=11)
    response = confirm(logged_in_2fa, challenge=alice_2fa.code(), next_url="/security/password")
    assert response.url == "/security/password"
    confirmed = Event.objects.get(event="access_confirmed")
    assert confirmed.actor_name == "alice" and confirmed.details["two_factor"] is True


def test_a_wrong_code_here_counts_as_a_failed_code(logged_in_2fa, alice_2fa, clock):
    clock.advance(minutes=11)
    confirm(logged_in_2fa, challenge=alice_2fa.wrong_code())
    assert Event.objects.get(event="2fa_failed").details["purpose"] == "confirm"


def test_wrong_passwords_here_are_limited_like_logins(logged_in, clock):
    clock.advance(minutes=11)
    for _ in range(10):
        confirm(logged_in, WRONG)
    response = confirm(logged_in)
    assert response.status_code == 429
    assert re.search(r"Too many attempts\. Try again in \d+ minutes?\.", text(response))
    assert int(response["Retry-After"]) > 0


def change_password(client: Client, current: str):
    new = "a-brand-new-passphrase-42"
    data = {"old_password": current, "new_password1": new, "new_password2": new}
    return client.post("/security/password", data)


def test_wrong_current_passwords_on_security_password_are_limited_like_logins(logged_in, alice):
    """Inside the first 10 minutes nothing asks to confirm access: the page's own field counts."""
    for _ in range(10):
        assert change_password(logged_in, WRONG).status_code == 400
    response = change_password(logged_in, PASSWORD)
    assert response.status_code == 429
    assert re.search(r"Too many attempts\. Try again in \d+ minutes?\.", text(response))
    assert int(response["Retry-After"]) > 0
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert Event.objects.filter(event="password_change_failed").count() == 10
    assert Event.objects.filter(event="password_change_throttled").count() == 1


def test_wrong_current_passwords_share_the_limit_of_confirm_access(logged_in, clock):
    for _ in range(5):
        change_password(logged_in, WRONG)
    clock.advance(minutes=11)
    for _ in range(5):
        confirm(logged_in, WRONG)
    assert confirm(logged_in).status_code == 429


def test_an_offsite_next_is_not_followed(logged_in, clock):
    clock.advance(minutes=11)
    assert confirm(logged_in, next_url="https://evil.example/").url == "/"


def test_confirm_access_needs_a_login(client):
    assert client.get("/security/confirm").url.startswith("/login")


# --- the API: its token is the authentication ------------------------------------------------


def api_token(username: str = "admin") -> dict:
    body = {"username": username, "password": PASSWORD}
    login = Client().post("/api/v1/auth/login", body, content_type="application/json")
    return {"Authorization": f"Bearer {login.json()['token']}"}


def test_an_api_token_older_than_10_minutes_cannot_change_sub_admins(admin, bob, clock):
    admin.api_access = True
    admin.save()
    headers = api_token()
    clock.advance(minutes=10, seconds=1)
    api = Client(headers=headers)
    answer = api.post(f"/api/v1/subadmins/{bob.pk}/reset-2fa")
    assert answer.status_code == 403 and answer.json()["error"] == "reauthentication_required"
    assert api.delete(f"/api/v1/subadmins/{bob.pk}").status_code == 403
    assert api.get(f"/api/v1/subadmins/{bob.pk}").status_code == 200  # reading needs no more


def test_an_api_token_of_the_last_10_minutes_changes_sub_admins(admin, bob, clock):
    admin.api_access = True
    admin.save()
    api = Client(headers=api_token())
    clock.advance(minutes=9)
    assert api.delete(f"/api/v1/subadmins/{bob.pk}").status_code == 204
