"""SPEC §12 "Password guessing": limits beyond the per-(username, IP) window of §5."""

import json
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.utils import timezone

from adminpanel.accounts.models import PasswordAttempts
from adminpanel.audit.models import Event
from tests.integration.panel import PASSWORD, is_logged_in, log_in, text

pytestmark = pytest.mark.django_db

WRONG = "wrong-password-123"
INVALID = "Invalid username or password."


def guess(username: str, password: str, ip: str):
    """One password step from a fresh browser at this address."""
    return log_in(Client(), username, password, REMOTE_ADDR=ip)


def api_login(username: str, password: str, ip: str):
    body = json.dumps({"username": username, "password": password})
    response = Client().post(
        "/api/v1/auth/login", body, content_type="application/json", REMOTE_ADDR=ip
    )
    return response, json.loads(response.content)


def spread_failures(username: str, count: int, *, first_ip: int = 1) -> None:
    """`count` wrong passwords, 5 per address, so no (username, IP) window fills up."""
    for n in range(count):
        response = guess(username, WRONG, f"198.51.{first_ip + n // 5}.{n % 5 + 1}")
        assert response.status_code == 200, n


# --- per account, from any number of addresses --------------------------------------------


def test_100_failures_from_many_addresses_make_the_account_wait(alice):
    spread_failures("alice", 100)
    response = guess("alice", PASSWORD, "192.0.2.200")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "Too many attempts. Try again in 1 minute." in text(response)


@pytest.mark.parametrize("channel", ["web", "api"])
def test_a_name_no_account_has_waits_after_100_failures_like_a_real_one(alice, channel):
    spread_failures("alice", 100)
    spread_failures("alicia", 100, first_ip=30)
    for name in ("alice", "alicia"):
        if channel == "web":
            response = guess(name, WRONG, "192.0.2.200")
            assert (response.status_code, response["Retry-After"]) == (429, "60"), name
        else:
            response, body = api_login(name, WRONG, "192.0.2.201")
            assert (response.status_code, body["error"]) == (429, "too_many_attempts"), name


def test_guesses_from_outside_the_allowed_ips_wait_like_any_name_and_never_the_owner(
    make_account,
):
    make_account("bob", allowed_ips=["192.0.2.0/24"])
    spread_failures("bob", 100)  # from 198.51.x.x: outside bob's allowed IPs
    assert guess("bob", WRONG, "203.0.113.7").status_code == 429  # as an invented name would
    assert guess("bob", PASSWORD, "192.0.2.10").url == "/"  # the owner waits for nothing


def test_a_streak_ends_after_a_quiet_day_for_real_and_invented_names(alice, clock):
    spread_failures("alice", 99)
    spread_failures("alicia", 99, first_ip=30)
    clock.advance(days=1, seconds=1)
    for name in ("alice", "alicia"):
        assert guess(name, WRONG, "192.0.2.200").status_code == 200, name
        assert guess(name, WRONG, "192.0.2.201").status_code == 200, name


def test_99_failures_from_many_addresses_still_let_the_right_password_in(alice):
    spread_failures("alice", 99)
    assert guess("alice", PASSWORD, "192.0.2.200").url == "/"


def test_the_account_wait_doubles_after_each_further_failure(alice, clock):
    spread_failures("alice", 100)
    clock.advance(seconds=61)
    assert guess("alice", WRONG, "192.0.2.200").status_code == 200  # failure 101
    response = guess("alice", PASSWORD, "192.0.2.201")
    assert response.status_code == 429 and response["Retry-After"] == "120"
    assert "Try again in 2 minutes." in text(response)


def test_an_attempt_during_the_wait_is_refused_unchecked_and_does_not_lengthen_it(alice, clock):
    spread_failures("alice", 100)
    clock.advance(seconds=30)
    assert guess("alice", WRONG, "192.0.2.200").status_code == 429
    clock.advance(seconds=31)
    assert guess("alice", PASSWORD, "192.0.2.201").url == "/"


def test_a_success_resets_the_account_count(alice):
    spread_failures("alice", 99)
    assert guess("alice", PASSWORD, "192.0.2.200").url == "/"
    spread_failures("alice", 99, first_ip=100)
    assert guess("alice", PASSWORD, "192.0.2.201").url == "/"  # not the address just used


def test_the_owners_recent_address_skips_the_account_wait_and_others_still_wait(alice, clock):
    """100 failures from anywhere do not lock the owner out (ASVS V6.3.1)."""
    assert guess("alice", PASSWORD, "192.0.2.10").url == "/"  # the owner, at home
    clock.advance(days=89)
    spread_failures("alice", 100)
    assert guess("alice", PASSWORD, "192.0.2.200").status_code == 429  # an unknown address
    assert guess("alice", PASSWORD, "192.0.2.10").url == "/"  # the owner's address


def test_the_api_skips_the_account_wait_from_the_owners_recent_address(make_account):
    make_account("carol", api_access=True)
    assert api_login("carol", PASSWORD, "192.0.2.10")[0].status_code == 200
    spread_failures("carol", 100)
    assert api_login("carol", PASSWORD, "192.0.2.200")[0].status_code == 429
    assert api_login("carol", PASSWORD, "192.0.2.10")[0].status_code == 200


def test_an_address_signed_in_from_over_90_days_ago_waits_like_any_other(alice, clock):
    assert guess("alice", PASSWORD, "192.0.2.10").url == "/"
    clock.advance(days=91)
    spread_failures("alice", 100)
    assert guess("alice", PASSWORD, "192.0.2.10").status_code == 429


def test_a_failed_attempt_from_an_address_never_signed_in_from_does_not_make_it_known(alice):
    assert guess("alice", WRONG, "192.0.2.10").status_code == 200
    spread_failures("alice", 99)  # the 100th failure
    assert guess("alice", PASSWORD, "192.0.2.10").status_code == 429


def test_guesses_from_the_owners_address_are_limited_by_the_address_window(alice):
    assert guess("alice", PASSWORD, "192.0.2.10").url == "/"
    for _ in range(10):
        assert guess("alice", WRONG, "192.0.2.10").status_code == 200
    assert guess("alice", PASSWORD, "192.0.2.10").status_code == 429


def test_the_api_answers_too_many_attempts_with_retry_after(alice):
    alice.api_access = True
    alice.save()
    spread_failures("alice", 100)
    response, body = api_login("alice", PASSWORD, "192.0.2.200")
    assert response.status_code == 429
    assert body["error"] == "too_many_attempts"
    assert body["message"] == "Too many attempts. Try again in 1 minute."
    assert response["Retry-After"] == "60"


def test_the_account_wait_is_logged(alice):
    spread_failures("alice", 100)
    guess("alice", PASSWORD, "192.0.2.200")
    throttled = Event.objects.filter(event="web_login_throttled", actor_name="alice").get()
    assert throttled.details["scope"] == "account"


# --- unknown usernames --------------------------------------------------------------------


def test_unknown_usernames_are_limited_per_address(db):
    for n in range(10):
        assert INVALID in text(guess(f"nobody{n}", WRONG, "203.0.113.9"))
    response = guess("somebody-else", WRONG, "203.0.113.9")
    assert response.status_code == 429
    assert "Too many attempts. Try again in 15 minutes." in text(response)


def test_the_limit_for_unknown_usernames_does_not_touch_other_addresses(alice):
    for n in range(10):
        guess(f"nobody{n}", WRONG, "203.0.113.9")
    assert guess("alice", PASSWORD, "203.0.113.10").url == "/"


def test_a_spent_window_answers_alike_for_real_and_invented_names(alice):
    """SPEC §6: an exhausted limit tells nothing about which names exist."""
    for n in range(10):
        assert INVALID in text(guess(f"nobody{n}", WRONG, "203.0.113.9"))
    real = guess("alice", WRONG, "203.0.113.9")
    invented = guess("nobody-else", WRONG, "203.0.113.9")
    assert real.status_code == invented.status_code == 429
    assert real["Retry-After"] == invented["Retry-After"]
    assert [str(m) for m in real.context["messages"]] == [
        str(m) for m in invented.context["messages"]
    ]


def test_failures_at_a_real_name_spend_the_same_window_as_invented_ones(alice):
    for n in range(5):
        guess("alice", WRONG, "203.0.113.9")
        guess(f"nobody{n}", WRONG, "203.0.113.9")
    assert guess("nobody-else", WRONG, "203.0.113.9").status_code == 429
    assert guess("alice", PASSWORD, "203.0.113.9").status_code == 429


def test_a_right_password_gives_back_its_own_attempt_only(alice, make_account):
    make_account("bob")
    for _ in range(9):
        guess("nobody", WRONG, "203.0.113.9")
    assert guess("alice", PASSWORD, "203.0.113.9").url == "/"
    assert guess("bob", PASSWORD, "203.0.113.9").url == "/"
    assert guess("nobody", WRONG, "203.0.113.9").status_code == 200  # the 10th failure
    assert guess("alice", PASSWORD, "203.0.113.9").status_code == 429


def test_unknown_usernames_add_no_record_per_name(db):
    for n in range(10):
        guess(f"nobody{n}", WRONG, "203.0.113.9")
    assert PasswordAttempts.objects.count() == 1


# --- a flood of refused attempts adds no rows ------------------------------------------------


def test_throttled_attempts_are_logged_once_per_window(db, clock):
    for n in range(10):
        api_login(f"nobody{n}", WRONG, "203.0.113.9")
    for _ in range(20):
        assert api_login("nobody", WRONG, "203.0.113.9")[0].status_code == 429
    assert Event.objects.filter(event="api_login_throttled").count() == 1
    clock.advance(minutes=15, seconds=1)
    for n in range(12):
        api_login(f"nobody{n}", WRONG, "203.0.113.9")
    assert Event.objects.filter(event="api_login_throttled").count() == 2


def test_throttled_attempts_are_logged_once_per_account_wait(alice):
    spread_failures("alice", 100)
    for n in range(5):
        assert guess("alice", PASSWORD, f"192.0.2.{n + 1}").status_code == 429
    throttled = Event.objects.filter(event="web_login_throttled", actor_name="alice")
    assert [e.details["scope"] for e in throttled] == ["account"]


def test_attempts_refused_during_the_account_wait_take_no_slot_of_the_address(alice, clock):
    spread_failures("alice", 100)
    for _ in range(10):
        assert guess("alice", PASSWORD, "192.0.2.200").status_code == 429
    clock.advance(seconds=61)
    assert guess("alice", PASSWORD, "192.0.2.200").url == "/"


def test_expired_sessions_are_swept_as_logins_go_by(alice):
    past = timezone.now() - timedelta(seconds=1)
    for n in range(3):
        Session.objects.create(session_key=f"expired{n:025d}", session_data="", expire_date=past)
    guess("nobody", WRONG, "203.0.113.9")
    assert not Session.objects.filter(expire_date__lt=timezone.now()).exists()


# --- expired records ----------------------------------------------------------------------


def test_attempt_records_are_purged_when_they_expire(alice, clock):
    for n in range(5):
        guess("alice", WRONG, f"203.0.113.{n + 1}")
        guess(f"nobody{n}", WRONG, f"203.0.113.{n + 1}")
    assert PasswordAttempts.objects.count() == 5  # one per address, whatever the names
    clock.advance(minutes=15, seconds=1)
    guess("alice", PASSWORD, "192.0.2.1")
    assert list(PasswordAttempts.objects.values_list("ip", flat=True)) == ["192.0.2.1"]


def test_a_record_purged_between_its_insert_and_its_lock_does_not_fail_the_login(alice, clock):
    """A purge on another instance may delete the row a login has just found: the login
    takes a new one instead of answering 500."""
    guess("alice", WRONG, "203.0.113.1")
    clock.advance(minutes=16)  # the row has expired: any purge may delete it
    table = PasswordAttempts._meta.db_table
    deleted = []

    def purge_first(execute, sql, params, many, context):
        if not deleted and sql.startswith("SELECT") and table in sql and "FOR UPDATE" in sql:
            deleted.append(True)
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our table name
        return execute(sql, params, many, context)

    if not connection.features.has_select_for_update:
        pytest.skip("SQLite serializes writers with BEGIN IMMEDIATE: no row lock to race")
    with connection.execute_wrapper(purge_first):
        response = guess("alice", PASSWORD, "203.0.113.1")
    assert deleted and response.url == "/"


# --- from outside the allowed IPs, the answer does not depend on the password ---------------


@pytest.fixture
def bob(make_account):
    return make_account("bob", allowed_ips=["10.0.0.0/8"], api_access=True)


def test_outside_the_allowed_ips_a_wrong_and_a_right_password_get_the_same_page(bob):
    right = guess("bob", PASSWORD, "192.0.2.5")
    wrong = guess("bob", WRONG, "192.0.2.5")
    assert right.status_code == wrong.status_code
    assert right.context["messages"] and [str(m) for m in right.context["messages"]] == [
        str(m) for m in wrong.context["messages"]
    ]


def test_outside_the_allowed_ips_a_wrong_and_a_right_password_get_the_same_api_answer(bob):
    right, right_body = api_login("bob", PASSWORD, "192.0.2.5")
    wrong, wrong_body = api_login("bob", WRONG, "192.0.2.5")
    assert right.status_code == wrong.status_code == 401
    assert right_body == wrong_body
    assert right_body["error"] == "invalid_credentials"


def test_outside_the_allowed_ips_an_account_reads_like_a_name_nobody_has(make_account):
    """Neither that the account exists nor what kind it is (API only, no API access)."""
    make_account("robot", web_access=False, api_access=True, allowed_ips=["10.0.0.0/8"])
    make_account("webby", api_access=False, allowed_ips=["10.0.0.0/8"])
    unknown_page = guess("nobody", PASSWORD, "192.0.2.5")
    unknown_api = api_login("nobody", PASSWORD, "192.0.2.5")
    for name in ("robot", "webby"):
        page = guess(name, PASSWORD, "192.0.2.6")
        assert page.status_code == unknown_page.status_code == 200
        assert INVALID in text(page) and "API" not in text(page)
        response, body = api_login(name, PASSWORD, "192.0.2.7")
        assert (response.status_code, body) == (unknown_api[0].status_code, unknown_api[1])
    reasons = Event.objects.filter(event__endswith="_login_refused").values_list(
        "actor_name", "details__reason"
    )
    assert sorted(reasons) == [("robot", "ip_not_allowed")] * 2 + [("webby", "ip_not_allowed")] * 2


def test_the_log_still_tells_a_right_password_from_outside_from_a_wrong_one(bob):
    guess("bob", PASSWORD, "192.0.2.5")
    guess("bob", WRONG, "192.0.2.5")
    events = Event.objects.filter(actor_name="bob").order_by("id")
    assert [(e.event, e.details.get("reason")) for e in events] == [
        ("web_login_refused", "ip_not_allowed"),
        ("web_login_failed", None),
    ]


def test_guesses_from_outside_the_allowed_ips_do_not_make_the_owner_wait(bob):
    spread_failures("bob", 100)
    client = Client(REMOTE_ADDR="10.1.2.3")
    assert log_in(client, "bob").url == "/"
    assert is_logged_in(client)
