"""SPEC §8 and §12 (finding 7): the log says when a right password was followed by no code,
and whether an action came from a session that passed 2FA."""

import pytest
from django.test import Client

from adminpanel.audit.models import Event
from tests.integration.panel import log_in, text, verify

pytestmark = pytest.mark.django_db


def events_of(name: str) -> list[Event]:
    return list(Event.objects.filter(event=name).order_by("id"))


def test_a_right_password_of_a_2fa_account_is_logged_before_the_code(pending_client):
    [accepted] = events_of("web_login_password_accepted")
    assert accepted.actor_name == "alice" and accepted.details == {"next_step": "2fa"}
    assert not events_of("web_login")


def test_a_pending_step_that_expired_is_logged_when_the_browser_comes_back(pending_client, clock):
    clock.advance(minutes=5, seconds=1)
    assert "took too long" in text(pending_client.get("/login"))
    [missed] = events_of("web_login_2fa_not_completed")
    assert missed.actor_name == "alice" and missed.details == {"reason": "expired"}


def test_cancel_is_logged_as_a_second_step_not_completed(pending_client):
    pending_client.post("/login/cancel")
    [missed] = events_of("web_login_2fa_not_completed")
    assert missed.details == {"reason": "cancelled"}


def test_a_password_typed_again_over_a_pending_step_is_logged(pending_client):
    log_in(pending_client)
    [missed] = events_of("web_login_2fa_not_completed")
    assert missed.details == {"reason": "restarted"}


def test_a_completed_second_step_logs_no_abandonment(pending_client, alice_2fa):
    assert verify(pending_client, alice_2fa.next_code()).url == "/"
    assert not events_of("web_login_2fa_not_completed")


def test_an_action_in_a_session_that_passed_2fa_says_so(logged_in_2fa):
    logged_in_2fa.post("/logout")
    [logout] = events_of("web_logout")
    assert logout.session_2fa is True


def test_an_action_in_a_session_without_2fa_says_so(logged_in):
    logged_in.post("/logout")
    [logout] = events_of("web_logout")
    assert logout.session_2fa is False


def test_events_outside_a_session_say_nothing_about_it(alice):
    log_in(Client(), "alice", "wrong-password-123")
    [failed] = events_of("web_login_failed")
    assert failed.session_2fa is None


def test_the_api_shows_whether_the_session_passed_2fa(make_account, logged_in):
    make_account("admin", is_owner=True, api_access=True)
    logged_in.post("/logout")
    api = Client()
    login = api.post(
        "/api/v1/auth/login",
        {"username": "admin", "password": "correct-horse-battery-staple"},
        content_type="application/json",
    )
    token = login.json()["token"]
    answer = api.get("/api/v1/logs?event=web_logout", headers={"Authorization": f"Bearer {token}"})
    assert answer.json()["items"][0]["session_2fa"] is False
