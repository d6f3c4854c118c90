"""SPEC §12 "Sessions": Security → Sessions, and the changes that end every other session."""

import re
from datetime import timedelta

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from adminpanel.accounts.models import Account, WebSession
from adminpanel.audit.models import Event
from adminpanel.subadmins import services as subadmins
from adminpanel.twofactor import interface as twofactor
from tests.integration.panel import (
    MANUAL_KEY,
    PASSWORD,
    SETUP_ID,
    is_logged_in,
    log_in,
    session_id,
    text,
    verify,
)

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "a-brand-new-passphrase-42"


def browser(user_agent: str = FIREFOX, ip: str = "192.0.2.10") -> Client:
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)


def with_code(alice_2fa) -> Client:
    """Alice signed in with her password and a code."""
    client = browser()
    log_in(client)
    assert verify(client, alice_2fa.next_code()).url == "/"
    return client


def signed_in(username: str = "alice", password: str = PASSWORD, **browser_options) -> Client:
    client = browser(**browser_options)
    assert log_in(client, username, password).url == "/"
    return client


def sign_out_buttons(page: str) -> list[str]:
    return re.findall(r'action="(/security/sessions/\d+/sign-out)"', page)


# --- the page ------------------------------------------------------------------------------


def test_the_sessions_page_lists_browser_ip_and_times(alice):
    laptop = signed_in(ip="192.0.2.10")
    signed_in(user_agent=IPHONE, ip="198.51.100.7")
    page = text(laptop.get("/security/sessions"))
    assert "<h1>Sessions</h1>" in page
    for heading in ("Browser", "IP", "Signed in (UTC)", "Last active (UTC)"):
        assert f'<th scope="col">{heading}</th>' in page
    assert "Firefox on Linux" in page and "192.0.2.10" in page
    assert "Mobile Safari on iOS" in page and "198.51.100.7" in page


def test_the_current_session_is_marked_this_session(alice):
    laptop = signed_in()
    signed_in(user_agent=IPHONE)
    page = text(laptop.get("/security/sessions"))
    assert page.count("This session") == 1
    assert page.index("This session") < page.index("Mobile Safari on iOS")


def test_the_menu_has_security_sessions(logged_in):
    assert '<a href="/security/sessions"' in text(logged_in.get("/"))


def test_another_accounts_sessions_are_not_listed(alice, make_account):
    make_account("bob")
    signed_in("bob", user_agent=IPHONE)
    page = text(signed_in().get("/security/sessions"))
    assert "Mobile Safari" not in page


def test_a_session_that_logged_out_is_not_listed(alice):
    laptop = signed_in()
    phone = signed_in(user_agent=IPHONE)
    phone.post("/logout")
    assert "Mobile Safari" not in text(laptop.get("/security/sessions"))
    assert WebSession.objects.count() == 1


def test_a_session_that_expired_without_a_logout_loses_its_row_at_the_next_login(
    alice, make_account
):
    make_account("bob")
    expired, live, bobs = signed_in(), signed_in(user_agent=IPHONE), signed_in("bob")
    Session.objects.filter(session_key__in=[session_id(expired), session_id(bobs)]).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    again = signed_in()
    kept = set(WebSession.objects.values_list("session_key", flat=True))
    # Alice's login sweeps Alice's rows only; Bob's goes at his next login.
    assert kept == {session_id(live), session_id(again), session_id(bobs)}


def test_with_2fa_the_sweep_comes_with_the_password_step_not_the_code(alice_2fa):
    expired = with_code(alice_2fa)
    Session.objects.filter(session_key=session_id(expired)).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    alice_2fa.clock.advance(seconds=30)
    pending = browser()
    assert log_in(pending).url == "/login"  # the pop-up is up: no code given yet
    assert not WebSession.objects.filter(session_key=session_id(expired)).exists()
    assert verify(pending, alice_2fa.next_code()).url == "/"
    assert set(WebSession.objects.values_list("session_key", flat=True)) == {session_id(pending)}


def test_the_last_active_time_follows_activity(alice, clock):
    laptop = signed_in()
    phone = signed_in(user_agent=IPHONE)
    clock.advance(minutes=30)
    phone.get("/")
    page = text(laptop.get("/security/sessions"))
    signed_in_at = clock() - timedelta(minutes=30)
    assert f"{clock():%Y-%m-%d %H:%M}" in page
    assert f"{signed_in_at:%Y-%m-%d %H:%M}" in page


# --- sign out ------------------------------------------------------------------------------


def test_sign_out_ends_that_session_at_once(alice):
    laptop = signed_in()
    phone = signed_in(user_agent=IPHONE)
    [button] = sign_out_buttons(text(laptop.get("/security/sessions")))
    assert laptop.post(button).url == "/security/sessions"
    assert not is_logged_in(phone)
    assert is_logged_in(laptop)
    ended = Event.objects.get(event="web_sessions_ended")
    assert ended.details["reason"] == "signed_out" and ended.details["sessions"] == 1


def test_a_session_of_another_account_cannot_be_signed_out(alice, make_account):
    make_account("bob")
    bob = signed_in("bob")
    theirs = WebSession.objects.get(account__username="bob")
    response = signed_in().post(f"/security/sessions/{theirs.pk}/sign-out")
    assert response.status_code == 404
    assert is_logged_in(bob)


def test_sign_out_needs_a_post(alice):
    laptop = signed_in()
    signed_in(user_agent=IPHONE)
    [button] = sign_out_buttons(text(laptop.get("/security/sessions")))
    assert laptop.get(button).status_code == 405


def test_sign_out_all_other_sessions_keeps_only_this_one(alice):
    laptop = signed_in()
    others = [signed_in(user_agent=IPHONE), signed_in(ip="203.0.113.4")]
    response = laptop.post("/security/sessions/sign-out-others", follow=True)
    assert "Signed out 2 other sessions." in text(response)
    assert [is_logged_in(c) for c in others] == [False, False]
    assert is_logged_in(laptop)
    assert Session.objects.count() == 1


# --- changes that end every other session --------------------------------------------------


def enable_2fa_on_page(client: Client, clock) -> str:
    """Security → 2FA → Enabled → Next → the code: returns the key."""
    client.post("/security/2fa", {"status": "enabled"})
    client.post("/security/2fa/enable")
    page = text(client.get("/security/2fa/setup"))
    key = MANUAL_KEY.search(page).group(1).replace(" ", "")
    setup = SETUP_ID.search(page).group(1)
    code = pyotp.TOTP(key).at(clock())
    response = client.post("/security/2fa/setup", {"setup": setup, "challenge": code})
    assert "Two-factor authentication is enabled." in text(response)
    return key


def test_enabling_2fa_ends_every_session_from_before(alice, clock):
    """Finding 1: a session from before 2FA kept full access for up to 24 hours."""
    stolen = signed_in(ip="203.0.113.66")
    owner = signed_in()
    enable_2fa_on_page(owner, clock)
    assert not is_logged_in(stolen)
    assert is_logged_in(owner)
    ended = Event.objects.get(event="web_sessions_ended")
    assert ended.details == {"account": "alice", "reason": "2fa_enabled", "sessions": 1}


def test_disabling_2fa_ends_every_other_session(alice_2fa):
    other, this = with_code(alice_2fa), with_code(alice_2fa)
    alice_2fa.clock.advance(seconds=30)
    response = this.post("/security/2fa/disable", {"challenge": alice_2fa.code()})
    assert response.status_code == 302
    assert not twofactor.is_enabled(alice_2fa.account)
    assert not is_logged_in(other)
    assert is_logged_in(this)


def test_a_password_change_ends_every_other_session_at_once(alice):
    other = signed_in(user_agent=IPHONE)
    other_key = session_id(other)
    this = signed_in()
    response = this.post(
        "/security/password",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=other_key).exists()
    assert not is_logged_in(other)
    assert is_logged_in(this)
    assert "This session" in text(this.get("/security/sessions"))


# --- a password step waiting for its code ends with them -------------------------------------


def at_the_code_pop_up() -> Client:
    """Someone who has the password and now waits at the pop-up (a code phished later)."""
    client = browser(ip="198.51.100.66")
    assert log_in(client).url == "/login"
    return client


def test_a_password_step_waiting_for_its_code_ends_with_a_password_change(alice_2fa):
    owner, attacker = with_code(alice_2fa), at_the_code_pop_up()
    owner.post(
        "/security/password",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    response = verify(attacker, alice_2fa.next_code())
    assert response.url == "/login"
    assert not is_logged_in(attacker)
    assert "This sign-in was ended." in text(attacker.get("/login"))
    ended = Event.objects.get(event="web_login_2fa_not_completed")
    assert ended.details == {"reason": "signed_out"}


def test_a_password_step_is_bound_to_the_password_whatever_changed_it(alice_2fa):
    attacker = at_the_code_pop_up()
    account = Account.objects.get(username="alice")
    account.set_password(NEW_PASSWORD)  # as any path that sets a password would
    account.save(update_fields=["password"])
    assert verify(attacker, alice_2fa.next_code()).url == "/login"
    assert not is_logged_in(attacker)


def test_a_password_step_waiting_for_its_code_ends_with_sign_out_all_other_sessions(alice_2fa):
    owner, attacker = with_code(alice_2fa), at_the_code_pop_up()
    assert owner.post("/security/sessions/sign-out-others").status_code == 302
    assert verify(attacker, alice_2fa.next_code()).url == "/login"
    assert not is_logged_in(attacker)
    assert is_logged_in(owner)


def test_a_password_step_waiting_for_its_code_ends_with_its_account_deactivated(alice_2fa):
    attacker = at_the_code_pop_up()
    Account.objects.filter(username="alice").update(is_active=False)
    assert verify(attacker, alice_2fa.next_code()).url == "/login"
    assert not is_logged_in(attacker)
    assert "Enter your username and password first." in text(attacker.get("/login"))
    assert not Event.objects.filter(event="2fa_failed").exists()  # nothing was checked
    Account.objects.filter(username="alice").update(is_active=True)
    assert verify(attacker, alice_2fa.next_code()).url == "/login"  # the step is gone for good


def test_a_password_step_waiting_for_its_code_ends_with_its_account_deleted(alice_2fa):
    attacker = at_the_code_pop_up()
    Account.objects.filter(username="alice").delete()
    assert verify(attacker, alice_2fa.next_code()).url == "/login"
    assert not is_logged_in(attacker)


def test_a_password_step_begun_after_the_sign_out_goes_on(alice_2fa):
    owner = with_code(alice_2fa)
    owner.post("/security/sessions/sign-out-others")
    later = at_the_code_pop_up()
    assert verify(later, alice_2fa.next_code()).url == "/"


@pytest.fixture
def admin(make_account):
    return make_account("admin", is_owner=True)


def test_the_admins_reset_2fa_ends_every_session_of_that_sub_admin(admin, make_account, clock):
    make_account("bob")
    bob = signed_in("bob")
    enable_2fa_on_page(bob, clock)
    admin_client = signed_in("admin")
    subadmins.reset_subadmin_2fa(admin, bob_account())
    assert not is_logged_in(bob)
    assert is_logged_in(admin_client)


def bob_account() -> Account:
    return Account.objects.get(username="bob")


def test_deactivation_ends_every_session_and_is_logged(admin, make_account):
    make_account("bob")
    sessions = [signed_in("bob"), signed_in("bob", user_agent=IPHONE)]
    subadmins.update_subadmin(admin, bob_account(), active=False)
    assert [is_logged_in(c) for c in sessions] == [False, False]
    ended = Event.objects.get(event="web_sessions_ended")
    assert ended.details["reason"] == "deactivated" and ended.details["sessions"] == 2
    assert not WebSession.objects.filter(account__username="bob").exists()


def test_deleting_a_sub_admin_removes_its_session_rows(admin, make_account):
    make_account("bob")
    bob = signed_in("bob")
    key = session_id(bob)
    subadmins.delete_subadmin(admin, bob_account())
    assert not Session.objects.filter(session_key=key).exists()


def test_the_sessions_page_comes_in_pages_of_10_this_session_first(alice):
    """Issue 21 item 12: a phone stacks each session into a card; 12 of them come in pages."""
    for n in range(11):
        signed_in(ip=f"192.0.2.{20 + n}")
    me = signed_in(user_agent=IPHONE, ip="198.51.100.7")
    first = text(me.get("/security/sessions"))
    assert "12 signed-in sessions, 10 a page" in first
    assert first.count('<tr class="current">') == 1
    assert len(sign_out_buttons(first)) == 9  # 10 rows: this one signs out by Log out
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert "Sign out all other sessions" in first
    second = text(me.get("/security/sessions?page=2"))
    assert len(sign_out_buttons(second)) == 2
    assert '<tr class="current">' not in second
