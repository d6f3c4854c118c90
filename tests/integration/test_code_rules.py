"""SPEC §5: which codes are accepted, once, and the waits that follow failures."""

import pyotp
import pytest
from django.test import Client

from adminpanel import cli
from adminpanel.audit.models import Event
from adminpanel.errors import Refused
from adminpanel.twofactor import interface
from adminpanel.twofactor import services as twofactor
from adminpanel.twofactor.models import CodeState
from tests.integration.panel import (
    SETUP_ID,
    failures,
    is_logged_in,
    log_in,
    text,
    verify,
    wrong_code_for,
)

pytestmark = pytest.mark.django_db

REPLAYED = "This code has already been used. Wait for the next code."
MALFORMED = "Enter the 6-digit code from your authenticator app"


def check(tfa, code: str, purpose: str = "login"):
    """verify_code for this account at the test's current time."""
    return twofactor.verify_code(tfa.account, code, now=tfa.clock(), purpose=purpose)


def refusal(tfa, code: str) -> Refused:
    with pytest.raises(Refused) as refused:
        check(tfa, code)
    return refused.value


def fail(tfa, times: int = 1) -> Refused:
    """Wrong, well-formed codes; returns the last refusal."""
    for _ in range(times):
        rejection = refusal(tfa, tfa.wrong_code())
    return rejection


def retry_at(tfa):
    return CodeState.objects.get(person=tfa.account.person).retry_at


# --- which steps are accepted ----------------------------------------------------------------


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_the_current_step_and_one_either_side_are_accepted(alice_2fa, steps):
    alice_2fa.clock.advance(seconds=30)  # the step before is one no code was used in
    assert check(alice_2fa, alice_2fa.code(steps)).kind == "totp"


@pytest.mark.parametrize(
    ("steps", "minutes"),
    [(-10, "5 minutes"), (-3, "2 minutes"), (-2, "1 minute"), (2, "1 minute"), (10, "5 minutes")],
)
def test_a_code_2_to_10_steps_away_says_the_clock_is_off(alice_2fa, steps, minutes):
    rejection = refusal(alice_2fa, alice_2fa.code(steps))
    assert rejection.reason == "clock_off"
    assert f"clock seems to be off by about {minutes}" in rejection.message


def test_a_code_from_a_clock_that_is_off_counts_as_a_failure(alice_2fa):
    refusal(alice_2fa, alice_2fa.code(5))
    assert failures(alice_2fa.account) == 1


@pytest.mark.parametrize("steps", [-11, 11, 200])
def test_a_code_further_than_10_steps_away_is_just_invalid(alice_2fa, steps):
    rejection = refusal(alice_2fa, alice_2fa.code(steps))
    assert rejection.reason == "invalid" and rejection.message == "Invalid code."


def test_the_clock_off_message_shows_in_the_pop_up(pending_client, alice_2fa):
    page = text(verify(pending_client, alice_2fa.code(-4)))
    assert "Your device's clock seems to be off by about 2 minutes." in page
    assert not is_logged_in(pending_client)


# --- each step once ----------------------------------------------------------------------------


def test_a_code_is_accepted_only_once(alice_2fa):
    code = alice_2fa.code()
    check(alice_2fa, code)
    rejection = refusal(alice_2fa, code)
    assert rejection.reason == "replayed" and rejection.message == REPLAYED


def test_a_step_before_the_last_accepted_one_is_refused_as_used(alice_2fa):
    check(alice_2fa, alice_2fa.code(1))
    assert refusal(alice_2fa, alice_2fa.code()).message == REPLAYED
    assert refusal(alice_2fa, alice_2fa.code(-1)).message == REPLAYED


def test_a_replayed_code_counts_as_a_failure(alice_2fa):
    code = alice_2fa.code()
    check(alice_2fa, code)
    refusal(alice_2fa, code)
    assert failures(alice_2fa.account) == 1


def test_the_next_step_is_accepted_after_a_code_was_used(alice_2fa):
    check(alice_2fa, alice_2fa.code())
    assert check(alice_2fa, alice_2fa.next_code()).kind == "totp"


def test_a_code_used_in_one_login_is_refused_in_another(alice_2fa):
    first, second = Client(), Client()
    log_in(first)
    log_in(second)
    code = alice_2fa.code()
    assert verify(first, code).url == "/"
    assert REPLAYED in text(verify(second, code))
    assert not is_logged_in(second)


def test_a_code_used_to_log_in_cannot_disable_2fa(alice_2fa):
    client = Client()
    log_in(client)
    code = alice_2fa.code()
    verify(client, code)
    assert REPLAYED in text(client.post("/security/2fa/disable", {"challenge": code}))
    assert interface.is_enabled(alice_2fa.account)


def test_a_code_used_to_log_in_cannot_make_new_recovery_codes(alice_2fa):
    client = Client()
    log_in(client)
    code = alice_2fa.code()
    verify(client, code)
    response = client.post("/security/2fa/recovery-codes", {"challenge": code})
    assert REPLAYED in text(response)
    assert interface.recovery_codes_left(alice_2fa.account) == 10


def test_a_step_used_on_the_account_cannot_confirm_a_new_setup(alice_2fa):
    client = Client()
    log_in(client)
    verify(client, alice_2fa.code())
    alice_2fa.clock.advance(seconds=30)
    client.post("/security/2fa/disable", {"challenge": alice_2fa.code()})  # spends this step
    assert not interface.is_enabled(alice_2fa.account)
    client.post("/security/2fa/enable")
    page = text(client.get("/security/2fa/setup"))
    setup = SETUP_ID.search(page).group(1)
    new_key = twofactor.setup_key(twofactor.pending_setup(alice_2fa.account))
    code = pyotp.TOTP(new_key).at(alice_2fa.clock())
    response = client.post("/security/2fa/setup", {"setup": setup, "challenge": code})
    assert REPLAYED in text(response)
    assert not interface.is_enabled(alice_2fa.account)


# --- failures and the wait that follows ------------------------------------------------------


def test_four_failures_need_no_wait(alice_2fa):
    rejection = fail(alice_2fa, 4)
    assert rejection.message == "Invalid code." and rejection.retry_after is None
    assert check(alice_2fa, alice_2fa.code()).kind == "totp"


def test_the_fifth_failure_starts_a_wait_of_1_minute(pending_client, alice_2fa):
    for _ in range(4):
        verify(pending_client, alice_2fa.wrong_code())
    response = verify(pending_client, alice_2fa.wrong_code())
    assert "Too many failed attempts. Try again in 1 minute." in text(response)
    assert response["Retry-After"] == "60"


def test_an_attempt_during_the_wait_is_refused_unchecked(pending_client, alice_2fa):
    fail(alice_2fa, 5)
    response = verify(pending_client, alice_2fa.code())
    assert response.status_code == 429
    assert "Too many failed attempts. Try again in 1 minute." in text(response)
    assert not is_logged_in(pending_client)


def test_an_attempt_during_the_wait_does_not_lengthen_it(alice_2fa):
    fail(alice_2fa, 5)
    until = retry_at(alice_2fa)
    alice_2fa.clock.advance(seconds=30)
    assert refusal(alice_2fa, alice_2fa.wrong_code()).reason == "throttled"
    assert refusal(alice_2fa, alice_2fa.code()).reason == "throttled"
    assert retry_at(alice_2fa) == until
    assert failures(alice_2fa.account) == 5
    alice_2fa.clock.advance(seconds=30)
    assert check(alice_2fa, alice_2fa.code()).kind == "totp"


def test_a_used_code_during_the_wait_is_refused_as_throttled_not_checked(alice_2fa):
    code = alice_2fa.code()
    check(alice_2fa, code)
    alice_2fa.clock.advance(seconds=30)
    fail(alice_2fa, 5)
    assert refusal(alice_2fa, code).reason == "throttled"
    assert failures(alice_2fa.account) == 5


def test_the_wait_doubles_after_each_failure_up_to_1_hour(alice_2fa):
    fail(alice_2fa, 4)
    waits = []
    for _ in range(9):
        rejection = fail(alice_2fa)
        waits.append(rejection.retry_after)
        alice_2fa.clock.advance(seconds=rejection.retry_after)
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_the_wait_message_says_how_many_minutes(alice_2fa):
    fail(alice_2fa, 5)
    alice_2fa.clock.advance(minutes=1)
    assert "Try again in 2 minutes." in fail(alice_2fa).message
    alice_2fa.clock.advance(seconds=30)
    assert refusal(alice_2fa, alice_2fa.wrong_code()).message == (
        "Too many failed attempts. Try again in 2 minutes."
    )
    alice_2fa.clock.advance(seconds=31)
    assert refusal(alice_2fa, alice_2fa.wrong_code()).message == (
        "Too many failed attempts. Try again in 1 minute."
    )


def test_a_success_resets_the_count(alice_2fa):
    fail(alice_2fa, 4)
    check(alice_2fa, alice_2fa.code())
    assert failures(alice_2fa.account) == 0
    assert fail(alice_2fa, 4).retry_after is None


def test_a_malformed_code_does_not_count(pending_client, alice_2fa):
    for typed in ["12345", "abcdef", "١٢٣٤٥٦", "1234567", "12 34 5"]:
        assert MALFORMED in text(verify(pending_client, typed))
    assert failures(alice_2fa.account) == 0


def test_failures_are_counted_across_sessions(alice_2fa):
    first, second = Client(), Client()
    log_in(first)
    log_in(second)
    for _ in range(3):
        verify(first, alice_2fa.wrong_code())
    verify(second, alice_2fa.wrong_code())
    response = verify(second, alice_2fa.wrong_code())
    assert "Too many failed attempts. Try again in 1 minute." in text(response)
    assert verify(first, alice_2fa.code()).status_code == 429
    assert not is_logged_in(first)


def test_failures_at_disable_and_regeneration_count_too(logged_in_2fa, alice_2fa):
    for _ in range(2):
        logged_in_2fa.post("/security/2fa/disable", {"challenge": alice_2fa.wrong_code()})
        logged_in_2fa.post("/security/2fa/recovery-codes", {"challenge": alice_2fa.wrong_code()})
    response = logged_in_2fa.post("/security/2fa/disable", {"challenge": alice_2fa.wrong_code()})
    assert "Too many failed attempts. Try again in 1 minute." in text(response)
    response = logged_in_2fa.post("/security/2fa/disable", {"challenge": alice_2fa.code()})
    assert response.status_code == 429
    assert interface.is_enabled(alice_2fa.account)


def test_failures_while_confirming_a_setup_do_not_count(logged_in, alice, clock):
    logged_in.post("/security/2fa/enable")
    setup = twofactor.pending_setup(alice)
    key = twofactor.setup_key(setup)
    for _ in range(5):  # enough to start a wait, were they counted
        wrong = wrong_code_for(key, clock())
        logged_in.post("/security/2fa/setup", {"setup": setup.pk, "challenge": wrong})
    code = pyotp.TOTP(key).at(clock())
    response = logged_in.post("/security/2fa/setup", {"setup": setup.pk, "challenge": code})
    assert "Two-factor authentication is enabled." in text(response)
    assert failures(alice) == 0


def test_the_start_of_a_wait_is_logged(alice_2fa):
    fail(alice_2fa, 5)
    throttled = Event.objects.get(event="2fa_throttled")
    assert throttled.actor_name == "alice" and throttled.details["wait_seconds"] == 60
    assert Event.objects.filter(event="2fa_failed").count() == 5


# --- 100 failures: only a recovery code (or a reset) ----------------------------------------


def lock_out(tfa) -> None:
    """100 consecutive failures, each after its wait."""
    for _ in range(100):
        rejection = fail(tfa)
        if rejection.retry_after:
            tfa.clock.advance(seconds=rejection.retry_after)
    assert failures(tfa.account) == 100


def test_after_100_failures_a_current_code_is_refused(alice_2fa):
    lock_out(alice_2fa)
    rejection = refusal(alice_2fa, alice_2fa.code())
    assert rejection.reason == "locked"
    assert "only a recovery code" in rejection.message


def test_after_99_failures_a_current_code_still_works(alice_2fa):
    for _ in range(99):
        rejection = fail(alice_2fa)
        if rejection.retry_after:
            alice_2fa.clock.advance(seconds=rejection.retry_after)
    assert check(alice_2fa, alice_2fa.code()).kind == "totp"


def test_after_100_failures_a_recovery_code_unlocks(alice_2fa):
    lock_out(alice_2fa)
    assert check(alice_2fa, alice_2fa.recovery_codes[0]).kind == "recovery"
    assert failures(alice_2fa.account) == 0
    assert check(alice_2fa, alice_2fa.code()).kind == "totp"


def test_after_100_failures_the_pop_up_accepts_only_a_recovery_code(alice_2fa):
    lock_out(alice_2fa)
    client = Client()
    log_in(client)
    assert "only a recovery code" in text(verify(client, alice_2fa.code()))
    assert verify(client, alice_2fa.recovery_codes[0]).url == "/"


def test_the_operators_reset_2fa_command_unlocks_the_account(alice_2fa, capsys):
    lock_out(alice_2fa)
    assert cli.main(["reset-2fa", "ALICE"]) == 0
    assert "2FA reset for alice" in capsys.readouterr().out
    assert failures(alice_2fa.account) == 0
    assert not interface.is_enabled(alice_2fa.account)
    assert log_in(Client()).url == "/"
    assert Event.objects.filter(event="2fa_reset", actor_name="operator (command line)").exists()


def test_the_reset_2fa_command_names_an_unknown_account(db, capsys):
    assert cli.main(["reset-2fa", "nobody"]) == 1
    assert "No account named 'nobody'" in capsys.readouterr().err


def test_the_reset_service_clears_the_failures_and_the_device(alice_2fa, make_account):
    admin = make_account("admin", is_owner=True)
    lock_out(alice_2fa)
    twofactor.reset(alice_2fa.account, actor=admin)
    assert failures(alice_2fa.account) == 0
    assert CodeState.objects.get(person=alice_2fa.account.person).retry_at is None
    assert not interface.is_enabled(alice_2fa.account)
    assert interface.recovery_codes_left(alice_2fa.account) == 0
    assert Event.objects.get(event="2fa_reset").details["account"] == "alice"


def test_after_a_reset_2fa_can_be_enabled_again(alice_2fa, enable_2fa):
    lock_out(alice_2fa)
    twofactor.reset(alice_2fa.account)
    again = enable_2fa(alice_2fa.account)
    assert check(again, again.code()).kind == "totp"


def test_a_code_refused_by_the_lock_out_does_not_count_again(alice_2fa):
    lock_out(alice_2fa)
    until = retry_at(alice_2fa)
    refusal(alice_2fa, alice_2fa.code())
    assert failures(alice_2fa.account) == 100
    assert retry_at(alice_2fa) == until
