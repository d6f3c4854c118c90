"""SPEC §3: the web login, its 2FA pop-up, logout and the life of a session."""

import json

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from adminpanel.audit.models import Event
from tests.integration.panel import (
    PASSWORD,
    csrf_log_in,
    csrf_token,
    is_logged_in,
    log_in,
    session_id,
    text,
    verify,
)

pytestmark = pytest.mark.django_db

INVALID = "Invalid username or password."


# --- the password step ---------------------------------------------------------------------


def test_the_login_page_has_username_password_and_log_in(client):
    page = text(client.get("/login"))
    assert '<label for="id_username">Username</label>' in page
    assert '<label for="id_password">Password</label>' in page
    assert ">Log in</button>" in page


def test_a_wrong_password_and_an_unknown_username_get_the_same_message(client, alice):
    wrong_password = log_in(client, "alice", "not-the-password")
    unknown_user = log_in(client, "nobody", PASSWORD)
    assert INVALID in text(wrong_password)
    assert INVALID in text(unknown_user)
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert not is_logged_in(client)


def test_a_deactivated_account_gets_the_same_message(client, make_account):
    make_account("carol", is_active=False)
    assert INVALID in text(log_in(client, "carol"))
    assert not is_logged_in(client)


def test_an_account_without_2fa_is_logged_in_and_sent_home(client, alice):
    response = log_in(client)
    assert response.status_code == 302 and response.url == "/"
    assert is_logged_in(client)


def test_the_username_is_not_case_sensitive(client, alice):
    assert log_in(client, "ALICE").url == "/"


def test_a_safe_next_url_on_this_site_is_followed(client, alice):
    response = client.post("/login?next=/security/2fa", {"username": "alice", "password": PASSWORD})
    assert response.url == "/security/2fa"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.com/",
        "http://evil.com/security/2fa",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_an_offsite_or_script_next_url_is_refused(client, alice, next_url):
    response = client.post("/login", {"username": "alice", "password": PASSWORD, "next": next_url})
    assert response.status_code == 302 and response.url == "/"


def test_an_api_only_account_is_refused_at_the_web_login(client, make_account):
    make_account("robot", web_access=False, api_access=True)
    response = log_in(client, "robot")
    assert "This account can only be used with the API." in text(response)
    assert not is_logged_in(client)
    assert Event.objects.filter(event="web_login_refused", actor_name="robot").exists()


def test_a_login_from_outside_the_allowed_ips_reads_like_a_wrong_password_and_is_logged(
    client, make_account
):
    make_account("bob", allowed_ips=["10.0.0.0/8"])
    response = log_in(client, "bob")
    assert "Invalid username or password." in text(response)
    assert "IP address" not in text(response)
    assert not is_logged_in(client)
    refused = Event.objects.get(event="web_login_refused", actor_name="bob")
    assert refused.details["reason"] == "ip_not_allowed"
    assert refused.ip == "127.0.0.1"


def test_a_login_from_an_allowed_ip_is_accepted(client, make_account):
    make_account("bob", allowed_ips=["10.0.0.0/8", "2001:db8::/32"])
    assert log_in(client, "bob", REMOTE_ADDR="10.1.2.3").url == "/"


def test_ten_wrong_passwords_then_too_many_attempts(client, alice):
    for _ in range(10):
        assert log_in(client, "alice", "wrong-password-123").status_code == 200
    response = log_in(client, "alice", "wrong-password-123")
    assert response.status_code == 429
    assert "Too many attempts. Try again in 15 minutes." in text(response)


def test_the_password_throttle_refuses_even_the_right_password(client, alice):
    for _ in range(10):
        log_in(client, "alice", "wrong-password-123")
    response = log_in(client)
    assert response.status_code == 429
    assert not is_logged_in(client)


def test_the_password_throttle_is_per_client_ip(client, alice):
    for _ in range(10):
        log_in(client, "alice", "wrong-password-123")
    assert log_in(Client(), REMOTE_ADDR="192.0.2.7").url == "/"


def test_the_password_throttle_ends_after_15_minutes(client, alice, clock):
    for _ in range(10):
        log_in(client, "alice", "wrong-password-123")
    clock.advance(minutes=14)
    assert log_in(client).status_code == 429
    clock.advance(minutes=1, seconds=1)
    assert log_in(client).url == "/"


# --- the 2FA pop-up --------------------------------------------------------------------------


def test_a_2fa_account_gets_the_pop_up_after_its_password(pending_client):
    page = text(pending_client.get("/login"))
    assert "<dialog open" in page
    assert "Two-factor authentication" in page
    assert '<label for="id_challenge">Challenge</label>' in page
    field = page[page.index('id="id_challenge"') - 60 : page.index('id="id_challenge"') + 300]
    assert 'autocomplete="one-time-code"' in field
    assert 'inputmode="numeric"' in field
    assert ">Verify</button>" in page


def test_after_the_password_alone_a_2fa_account_is_not_logged_in(pending_client):
    response = pending_client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login")
    assert pending_client.get("/security/2fa").status_code == 302


def test_a_valid_code_logs_in(pending_client, alice_2fa):
    response = verify(pending_client, alice_2fa.code())
    assert response.status_code == 302 and response.url == "/"
    assert is_logged_in(pending_client)


def test_the_next_url_survives_the_2fa_step(alice_2fa):
    client = Client()
    client.post("/login?next=/security/2fa", {"username": "alice", "password": PASSWORD})
    assert verify(client, alice_2fa.code()).url == "/security/2fa"


def test_a_wrong_code_does_not_log_in(pending_client, alice_2fa):
    response = verify(pending_client, alice_2fa.wrong_code())
    assert "Invalid code." in text(response)
    assert "<dialog open" in text(response)
    assert not is_logged_in(pending_client)


def test_verifying_gives_a_new_session_id(pending_client, alice_2fa):
    before = session_id(pending_client)
    verify(pending_client, alice_2fa.code())
    after = session_id(pending_client)
    assert before and after and before != after
    assert not Session.objects.filter(session_key=before).exists()


def test_the_password_step_gives_a_new_session_id(client, alice_2fa):
    client.get("/login")
    client.session.save()  # a session id a visitor might have been given (or planted)
    planted = session_id(client)
    log_in(client)
    assert session_id(client) not in (None, planted)


def test_the_pending_step_still_works_just_before_5_minutes(pending_client, alice_2fa, clock):
    clock.advance(minutes=4, seconds=59)
    assert verify(pending_client, alice_2fa.code()).url == "/"


def test_the_pending_step_expires_after_5_minutes(pending_client, alice_2fa, clock):
    clock.advance(minutes=5, seconds=1)
    response = verify(pending_client, alice_2fa.code(), follow=True)
    page = text(response)
    assert "Enter your password again." in page
    assert "<dialog" not in page
    assert not is_logged_in(pending_client)


def test_a_recovery_code_is_accepted_in_the_challenge_input(pending_client, alice_2fa):
    response = verify(pending_client, alice_2fa.recovery_codes[0])
    assert response.url == "/"
    assert is_logged_in(pending_client)


def test_a_recovery_code_logs_in_only_once(alice_2fa):
    first, second = Client(), Client()
    log_in(first)
    log_in(second)
    assert verify(first, alice_2fa.recovery_codes[0]).url == "/"
    response = verify(second, alice_2fa.recovery_codes[0])
    assert "Invalid code." in text(response)
    assert not is_logged_in(second)


def test_cancel_returns_to_the_password(pending_client, alice_2fa):
    pending_client.post("/login/cancel")
    assert "<dialog" not in text(pending_client.get("/login"))
    assert verify(pending_client, alice_2fa.code()).url == "/login"
    assert not is_logged_in(pending_client)


# --- logout and the life of a session ------------------------------------------------------


def test_logout_ends_the_session_on_the_server(logged_in):
    old = session_id(logged_in)
    logged_in.post("/logout")
    assert not Session.objects.filter(session_key=old).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old
    assert replay.get("/").status_code == 302


def test_logout_needs_a_post(logged_in):
    assert logged_in.get("/logout").status_code == 405
    assert is_logged_in(logged_in)


def test_a_session_ends_after_1_hour_without_activity(logged_in, clock):
    clock.advance(hours=1, seconds=1)
    response = logged_in.get("/")
    assert response.status_code == 302 and response.url.startswith("/login")


def test_activity_keeps_a_session_alive_past_1_hour(logged_in, clock):
    for _ in range(3):
        clock.advance(minutes=50)
        assert is_logged_in(logged_in)


def test_a_session_ends_24_hours_after_login_even_when_active(logged_in, clock):
    for _ in range(28):  # 23 h 20 min of steady activity
        clock.advance(minutes=50)
        assert is_logged_in(logged_in)
    clock.advance(minutes=41)
    assert not is_logged_in(logged_in)


# --- CSRF ------------------------------------------------------------------------------------


def test_the_login_form_is_refused_without_a_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.get("/login")
    response = log_in(client)
    assert response.status_code == 403
    assert not is_logged_in(client)


def test_the_login_form_works_with_its_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    assert csrf_log_in(client).url == "/"


def test_the_verify_form_is_refused_without_a_csrf_token(alice_2fa):
    client = Client(enforce_csrf_checks=True)
    csrf_log_in(client)
    assert verify(client, alice_2fa.code()).status_code == 403
    assert not is_logged_in(client)
    token = csrf_token(client, "/login")
    response = client.post(
        "/login/verify", {"challenge": alice_2fa.code(), "csrfmiddlewaretoken": token}
    )
    assert response.url == "/"


def test_logout_is_refused_without_a_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    assert csrf_log_in(client).url == "/"
    assert client.post("/logout").status_code == 403
    assert is_logged_in(client)


# --- the audit log ---------------------------------------------------------------------------


def test_logins_and_their_failures_are_logged(alice_2fa):
    client = Client()
    log_in(client, "alice", "not-the-password")
    log_in(client, "nobody", "whatever-password")
    log_in(client)
    verify(client, alice_2fa.wrong_code())
    verify(client, alice_2fa.code())
    client.post("/logout")
    second = Client()
    log_in(second)
    verify(second, alice_2fa.recovery_codes[0])
    events = list(Event.objects.order_by("id").values_list("event", "actor_name"))
    assert ("web_login_failed", "alice") in events
    assert ("web_login_failed", "") in events  # an unknown username is not logged as typed
    assert not Event.objects.filter(actor_name="nobody").exists()
    assert ("2fa_failed", "alice") in events
    assert ("web_login", "alice") in events
    assert ("web_logout", "alice") in events
    assert ("2fa_recovery_code_used", "alice") in events
    login = Event.objects.filter(event="web_login").first()
    assert login.details["two_factor"] is True
    assert login.ip == "127.0.0.1"


def test_no_password_code_or_secret_appears_in_the_log(alice_2fa):
    used = [
        alice_2fa.code(),
        alice_2fa.wrong_code(),
        alice_2fa.recovery_codes[0],
        alice_2fa.recovery_codes[1],
    ]
    client = Client()
    log_in(client, "alice", "not-the-password")
    log_in(client)
    verify(client, used[1])
    verify(client, used[0])
    client.post("/logout")
    for recovery in used[2:]:
        client = Client()
        log_in(client)
        verify(client, recovery)
        client.post("/logout")
    assert Event.objects.filter(event="2fa_recovery_code_used").count() == 2
    secrets = [PASSWORD, "not-the-password", alice_2fa.key, *used]
    secrets += [code.replace("-", "") for code in used[2:]]
    for event in Event.objects.all():
        logged = json.dumps(event.details) + event.actor_name + event.user_agent + event.event
        for secret in secrets:
            assert secret not in logged, f"{event.event} logs a secret"


@pytest.mark.parametrize(
    ("data", "missing", "kept"),
    [
        ({"username": "", "password": ""}, ["username", "password"], ""),
        ({"username": "alice", "password": ""}, ["password"], "alice"),
        ({"username": "  ", "password": "x"}, ["username"], ""),
    ],
)
def test_an_empty_login_form_says_which_field_is_missing(client, data, missing, kept):
    """Issue 21 item 13: not the generic refusal; the message under the empty field."""
    response = client.post("/login", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Invalid username or password." not in page
    for name in ("username", "password"):
        said = f'<p class="field-error" id="id_{name}-error">Enter your {name}. </p>' in page
        assert said == (name in missing)
        assert (f'aria-describedby="id_{name}-error"' in page) == (name in missing)
    assert f'value="{kept}"' in page
