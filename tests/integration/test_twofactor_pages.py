"""SPEC §4: Security → 2FA — status, enabling with a QR code, disabling, recovery codes."""

import logging
import re

import pytest
from django.test import Client

from adminpanel.audit.models import Event
from adminpanel.audit.words import event_label
from adminpanel.errors import Refused
from adminpanel.twofactor import interface, recovery
from adminpanel.twofactor import services as twofactor
from adminpanel.twofactor.models import PendingSetup, RecoveryCode, TotpDevice
from tests.integration.keys import add_key
from tests.integration.panel import (
    MANUAL_KEY,
    PASSWORD,
    RECOVERY_CODE,
    SETUP_ID,
    csrf_log_in,
    csrf_token,
    failures,
    is_logged_in,
    log_in,
    text,
    verify,
    wrong_code_for,
)
from tests.integration.setup_flow import begin_setup, code_for, save_setup
from tests.qr import decode_qr

pytestmark = pytest.mark.django_db

ENABLED = "Two-factor authentication is enabled."
DISABLED = "Two-factor authentication is disabled."
MALFORMED = "Enter the 6-digit code from your authenticator app"


def confirm_access(client: Client) -> None:
    response = client.post("/security/confirm", {"password": PASSWORD, "next": "/"})
    assert response.status_code == 302, text(response)


# --- status ----------------------------------------------------------------------------------


def test_the_status_page_has_select_status_and_save(logged_in):
    page = text(logged_in.get("/security/2fa"))
    assert DISABLED in page
    assert '<label for="id_status">Select Status</label>' in page
    assert re.search(r'<option value="enabled"[^>]*>Enabled</option>', page)
    assert re.search(r'<option value="disabled" selected>Disabled</option>', page)
    assert ">Save</button>" in page


def test_the_menu_has_security_with_the_entry_2fa(logged_in):
    page = text(logged_in.get("/"))
    assert "<summary>Security</summary>" in page
    assert '<a href="/security/2fa"' in page and ">2FA</a>" in page


def test_the_security_pages_need_a_login(client):
    for url in ("/security/2fa", "/security/2fa/enable", "/security/2fa/setup"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login")


def test_the_enabled_status_page_shows_the_status_and_recovery_codes_left(logged_in_2fa):
    page = text(logged_in_2fa.get("/security/2fa"))
    assert ENABLED in page
    assert re.search(r'<option value="enabled" selected>Enabled</option>', page)
    assert "10 of 10 recovery codes left" in page


# --- enable ----------------------------------------------------------------------------------


def test_the_requirements_page_names_authenticator_apps_and_has_next(logged_in):
    logged_in.post("/security/2fa", {"status": "enabled"})
    page = text(logged_in.get("/security/2fa/enable"))
    for app in ("Google Authenticator", "Authy", "Microsoft Authenticator", "1Password"):
        assert app in page
    assert ">Next</button>" in page


def test_the_setup_page_has_qr_code_key_countdown_challenge_and_save(logged_in):
    page, key, _ = begin_setup(logged_in)
    assert re.search(r'<svg role="img" aria-label="QR code"', page)
    assert re.search(r'id="manual-key">[A-Z2-7]{4}( [A-Z2-7]{4}){7}<', page)
    assert 'data-seconds-left="600"' in page
    assert "Time left: 10 minutes" in " ".join(re.sub(r"<[^>]+>", "", page).split())
    assert '<label for="id_challenge">Challenge</label>' in page
    assert ">Save</button>" in page
    assert len(key) == 32


def test_the_qr_code_on_the_page_encodes_the_otpauth_uri_of_its_key(logged_in):
    page, key, _ = begin_setup(logged_in)
    svg = re.search(r'<svg role="img" aria-label="QR code".*?</svg>', page, re.S).group(0)
    assert decode_qr(svg) == (
        f"otpauth://totp/Admin%20Panel:alice?secret={key}&issuer=Admin%20Panel"
        "&algorithm=SHA1&digits=6&period=30"
    )


def test_a_valid_code_enables_2fa_and_shows_10_recovery_codes(logged_in, alice, clock):
    _, key, setup = begin_setup(logged_in)
    response = save_setup(logged_in, setup, code_for(key, clock))
    page = text(response)
    assert ENABLED in page
    codes = RECOVERY_CODE.findall(page)
    assert len(codes) == 10 and len(set(codes)) == 10
    for action in (">Copy</button>", "Download (.txt)", ">Print</button>"):
        assert action in page
    assert interface.is_enabled(alice)


def test_the_recovery_codes_are_shown_only_once(logged_in, clock):
    _, key, setup = begin_setup(logged_in)
    codes = RECOVERY_CODE.findall(text(save_setup(logged_in, setup, code_for(key, clock))))
    for url in ("/security/2fa", "/security/2fa/recovery-codes", "/security/2fa/setup", "/"):
        page = text(logged_in.get(url, follow=True))
        assert not any(code in page for code in codes), url


def test_the_key_is_never_shown_after_setup(logged_in, clock):
    _, key, setup = begin_setup(logged_in)
    save_setup(logged_in, setup, code_for(key, clock))
    grouped = " ".join(key[i : i + 4] for i in range(0, 32, 4))
    for url in (
        "/security/2fa",
        "/security/2fa/setup",
        "/security/2fa/enable",
        "/security/2fa/disable",
        "/security/2fa/recovery-codes",
        "/",
    ):
        page = text(logged_in.get(url, follow=True))
        assert key not in page and grouped not in page, url


def test_nothing_about_the_account_changes_until_the_code_verifies(logged_in, alice):
    begin_setup(logged_in)
    assert not TotpDevice.objects.filter(person=alice.person).exists()
    assert not RecoveryCode.objects.filter(person=alice.person).exists()
    assert not interface.is_enabled(alice)
    assert DISABLED in text(logged_in.get("/security/2fa"))
    assert log_in(Client()).url == "/"  # the password alone still logs in


def test_a_wrong_code_says_so_and_keeps_the_setup(logged_in, alice, clock):
    _, key, setup = begin_setup(logged_in)
    page = text(save_setup(logged_in, setup, wrong_code_for(key, clock())))
    assert "Invalid code." in page
    assert SETUP_ID.search(page).group(1) == setup
    assert MANUAL_KEY.search(page).group(1).replace(" ", "") == key
    assert not TotpDevice.objects.filter(person=alice.person).exists()
    assert ENABLED in text(save_setup(logged_in, setup, code_for(key, clock)))


def test_a_wrong_setup_code_is_refused_before_any_recovery_code_is_made(
    logged_in, alice, clock, monkeypatch
):
    _, key, setup = begin_setup(logged_in)
    hashed = []
    real = recovery.make_password
    monkeypatch.setattr(recovery, "make_password", lambda code: hashed.append(code) or real(code))
    assert "Invalid code." in text(save_setup(logged_in, setup, wrong_code_for(key, clock())))
    assert hashed == []


def test_a_setup_expires_after_10_minutes(logged_in, alice, clock):
    _, key, setup = begin_setup(logged_in)
    clock.advance(minutes=10)
    page = text(save_setup(logged_in, setup, code_for(key, clock)))
    assert "This setup has expired" in page
    assert ">Get a new QR code</button>" in page
    assert not TotpDevice.objects.filter(person=alice.person).exists()


def test_a_setup_still_works_just_before_10_minutes(logged_in, clock):
    _, key, setup = begin_setup(logged_in)
    clock.advance(minutes=9, seconds=59)
    assert ENABLED in text(save_setup(logged_in, setup, code_for(key, clock)))


def test_an_expired_setup_page_offers_a_new_qr_code_that_works(logged_in, clock):
    _, old_key, _ = begin_setup(logged_in)
    clock.advance(minutes=11)
    confirm_access(logged_in)  # SPEC §12: enabling 2FA 10 minutes after the login asks again
    page = text(logged_in.get("/security/2fa/setup"))
    assert "This setup has expired" in page and 'action="/security/2fa/enable"' in page
    assert logged_in.post("/security/2fa/enable").url == "/security/2fa/setup"
    page = text(logged_in.get("/security/2fa/setup"))
    key, setup = MANUAL_KEY.search(page).group(1).replace(" ", ""), SETUP_ID.search(page).group(1)
    assert key != old_key
    assert ENABLED in text(save_setup(logged_in, setup, code_for(key, clock)))


def test_a_second_setup_replaces_the_first(logged_in, alice, clock):
    _, first_key, first_setup = begin_setup(logged_in)
    _, second_key, second_setup = begin_setup(logged_in)
    assert first_setup != second_setup and first_key != second_key
    page = text(save_setup(logged_in, first_setup, code_for(first_key, clock)))
    assert "replaced by a newer setup" in page
    assert not TotpDevice.objects.filter(person=alice.person).exists()
    assert PendingSetup.objects.filter(person=alice.person).count() == 1
    assert ENABLED in text(save_setup(logged_in, second_setup, code_for(second_key, clock)))


def test_the_first_setups_code_does_not_confirm_the_second(logged_in, alice, clock):
    _, first_key, _ = begin_setup(logged_in)
    _, _, second_setup = begin_setup(logged_in)
    assert "Invalid code." in text(save_setup(logged_in, second_setup, code_for(first_key, clock)))
    assert not TotpDevice.objects.filter(person=alice.person).exists()


def test_after_enabling_the_login_asks_for_a_code(logged_in, clock):
    _, key, setup = begin_setup(logged_in)
    save_setup(logged_in, setup, code_for(key, clock))
    client = Client()
    assert log_in(client).url == "/login"
    assert not is_logged_in(client)
    clock.advance(seconds=30)
    assert verify(client, code_for(key, clock)).url == "/"


# --- disable ---------------------------------------------------------------------------------


def test_disable_asks_for_a_challenge(logged_in_2fa):
    response = logged_in_2fa.post("/security/2fa", {"status": "disabled"})
    assert response.url == "/security/2fa/disable"
    page = text(logged_in_2fa.get("/security/2fa/disable"))
    assert '<label for="id_challenge">Challenge</label>' in page
    assert ">Save</button>" in page


def test_a_current_code_disables_2fa(logged_in_2fa, alice_2fa):
    response = logged_in_2fa.post(
        "/security/2fa/disable", {"challenge": alice_2fa.code()}, follow=True
    )
    page = text(response)
    assert DISABLED in page
    assert "You can now delete the entry from your 2FA app." in page
    assert not interface.is_enabled(alice_2fa.account)
    assert not RecoveryCode.objects.filter(person=alice_2fa.account.person).exists()
    assert log_in(Client()).url == "/"


def test_a_recovery_code_disables_2fa(logged_in_2fa, alice_2fa):
    challenge = alice_2fa.recovery_codes[3]
    response = logged_in_2fa.post("/security/2fa/disable", {"challenge": challenge}, follow=True)
    assert DISABLED in text(response)
    assert not interface.is_enabled(alice_2fa.account)


def test_a_wrong_code_leaves_2fa_on(logged_in_2fa, alice_2fa):
    response = logged_in_2fa.post("/security/2fa/disable", {"challenge": alice_2fa.wrong_code()})
    assert "Invalid code." in text(response)
    assert interface.is_enabled(alice_2fa.account)
    assert RecoveryCode.objects.filter(person=alice_2fa.account.person).count() == 10


# --- recovery codes ---------------------------------------------------------------------------


def regenerate(client: Client, challenge: str):
    return client.post("/security/2fa/recovery-codes", {"challenge": challenge})


def test_the_status_page_counts_the_recovery_codes_left(logged_in_2fa, alice_2fa):
    twofactor.verify_code(alice_2fa.account, alice_2fa.recovery_codes[0], now=alice_2fa.clock())
    assert "9 of 10 recovery codes left" in text(logged_in_2fa.get("/security/2fa"))


def test_new_recovery_codes_need_a_current_code(logged_in_2fa, alice_2fa):
    page = text(regenerate(logged_in_2fa, alice_2fa.wrong_code()))
    assert "Invalid code." in page
    assert not RECOVERY_CODE.findall(page)


def test_a_recovery_code_cannot_confirm_new_recovery_codes(logged_in_2fa, alice_2fa):
    page = text(regenerate(logged_in_2fa, alice_2fa.recovery_codes[0]))
    assert MALFORMED in page
    assert not RECOVERY_CODE.findall(page)
    assert interface.recovery_codes_left(alice_2fa.account) == 10


def test_a_current_code_gives_10_new_recovery_codes(logged_in_2fa, alice_2fa):
    page = text(regenerate(logged_in_2fa, alice_2fa.code()))
    codes = RECOVERY_CODE.findall(page)
    assert len(codes) == 10
    assert not set(codes) & set(alice_2fa.recovery_codes)


def test_the_old_recovery_codes_work_until_the_new_set_is_saved(logged_in_2fa, alice_2fa):
    logged_in_2fa.get("/security/2fa/recovery-codes")
    regenerate(logged_in_2fa, alice_2fa.wrong_code())
    verdict = twofactor.verify_code(
        alice_2fa.account, alice_2fa.recovery_codes[0], now=alice_2fa.clock()
    )
    assert verdict.kind == "recovery"


def test_the_old_recovery_codes_die_when_the_new_set_is_saved(logged_in_2fa, alice_2fa):
    new_codes = RECOVERY_CODE.findall(text(regenerate(logged_in_2fa, alice_2fa.code())))
    client = Client()
    log_in(client)
    assert "Invalid code." in text(verify(client, alice_2fa.recovery_codes[0]))
    assert verify(client, new_codes[0]).url == "/"


def test_enabling_regenerating_and_disabling_are_logged(logged_in, alice, clock):
    _, key, setup = begin_setup(logged_in)
    save_setup(logged_in, setup, code_for(key, clock))
    clock.advance(seconds=30)
    regenerate(logged_in, code_for(key, clock))
    clock.advance(seconds=30)
    logged_in.post("/security/2fa/disable", {"challenge": code_for(key, clock)})
    events = list(Event.objects.filter(actor_name="alice").values_list("event", flat=True))
    for event in (
        "2fa_setup_started",
        "2fa_enabled",
        "2fa_recovery_codes_regenerated",
        "2fa_disabled",
    ):
        assert event in events


# --- bad input: a clear message, nothing changed, never a 500 --------------------------------

BAD_CODES = {
    "empty": "",
    "letters": "abcdef",
    "arabic-indic digits": "١٢٣٤٥٦",
    "fullwidth digits": "１２３４５６",
    "nul": "123\x00456",
    "too long": "1" * 101,
    "seven digits": "1234567",
}


def test_bad_input_in_the_setup_challenge_gets_a_clear_message(logged_in, alice):
    _, _, setup = begin_setup(logged_in)
    for name, value in BAD_CODES.items():
        response = save_setup(logged_in, setup, value)
        assert response.status_code == 200, name
        assert MALFORMED in text(response), name
    assert not TotpDevice.objects.filter(person=alice.person).exists()
    assert PendingSetup.objects.filter(person=alice.person, pk=setup).exists()


def test_bad_input_in_the_disable_challenge_gets_a_clear_message(logged_in_2fa, alice_2fa):
    for name, value in BAD_CODES.items():
        response = logged_in_2fa.post("/security/2fa/disable", {"challenge": value})
        assert response.status_code == 200, name
        assert MALFORMED in text(response), name
    assert interface.is_enabled(alice_2fa.account)
    assert failures(alice_2fa.account) == 0


def test_bad_input_in_the_regenerate_challenge_gets_a_clear_message(logged_in_2fa, alice_2fa):
    for name, value in BAD_CODES.items():
        response = regenerate(logged_in_2fa, value)
        assert response.status_code == 200, name
        assert MALFORMED in text(response), name
        assert not RECOVERY_CODE.findall(text(response)), name
    assert interface.recovery_codes_left(alice_2fa.account) == 10
    assert failures(alice_2fa.account) == 0


def test_bad_input_in_the_login_challenge_gets_a_clear_message(pending_client, alice_2fa):
    for name, value in BAD_CODES.items():
        response = verify(pending_client, value)
        assert response.status_code == 200, name
        assert MALFORMED in text(response), name
        assert "<dialog open" in text(response), name
    assert failures(alice_2fa.account) == 0
    assert not is_logged_in(pending_client)


@pytest.mark.parametrize("value", ["maybe", "Enabled", "١", "x" * 10_000, "\x00"])
def test_bad_input_in_select_status_gets_a_clear_message(logged_in, alice, value):
    response = logged_in.post("/security/2fa", {"status": value})
    assert response.status_code == 400
    assert "Choose Enabled or Disabled." in text(response)
    assert not PendingSetup.objects.filter(person=alice.person).exists()


def test_an_empty_status_form_gets_a_clear_message(logged_in):
    response = logged_in.post("/security/2fa", {})
    assert response.status_code == 400
    assert "This field is required." in text(response)


@pytest.mark.parametrize("url", ["/security/2fa/disable", "/security/2fa/recovery-codes"])
def test_an_empty_challenge_form_gets_a_clear_message(logged_in_2fa, url):
    assert MALFORMED in text(logged_in_2fa.post(url, {}))


def test_an_empty_setup_form_gets_a_clear_message(logged_in, alice):
    begin_setup(logged_in)
    assert MALFORMED in text(logged_in.post("/security/2fa/setup", {}))
    assert PendingSetup.objects.filter(person=alice.person).exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This setup form is out of date. Use the newest QR code."),
        ("\x00", "This setup form is out of date. Use the newest QR code."),
        ("1" * 41, "This setup form is out of date. Use the newest QR code."),
        ("abc", "This QR code was replaced by a newer setup. Use the newest QR code."),
        ("99999999", "This QR code was replaced by a newer setup. Use the newest QR code."),
    ],
    ids=["empty", "nul", "too long", "letters", "unknown"],
)
def test_a_bad_setup_id_gets_a_clear_message_and_keeps_the_setup(
    logged_in, alice, clock, value, message
):
    _, key, setup = begin_setup(logged_in)
    response = save_setup(logged_in, value, code_for(key, clock))
    assert response.status_code == 200
    assert message in text(response)
    assert not TotpDevice.objects.filter(person=alice.person).exists()
    assert ENABLED in text(save_setup(logged_in, setup, code_for(key, clock)))


def test_a_setup_form_without_a_pending_setup_says_to_start_again(logged_in, alice, clock):
    response = logged_in.post(
        "/security/2fa/setup", {"setup": "1", "challenge": "123456"}, follow=True
    )
    assert "Start again." in text(response)
    assert not TotpDevice.objects.filter(person=alice.person).exists()


def test_a_stale_setup_form_after_enabling_changes_nothing(logged_in, alice, clock):
    _, key, setup = begin_setup(logged_in)
    save_setup(logged_in, setup, code_for(key, clock))
    device = TotpDevice.objects.get(person=alice.person)
    clock.advance(seconds=30)
    response = save_setup(logged_in, setup, code_for(key, clock))
    assert response.status_code == 302 and response.url == "/security/2fa"
    assert TotpDevice.objects.get(person=alice.person).pk == device.pk
    assert RecoveryCode.objects.filter(person=alice.person).count() == 10


ONE_MEGABYTE = "1" * (1024 * 1024)


def test_a_megabyte_of_text_is_a_bad_request_not_an_error(logged_in_2fa, alice_2fa):
    for url, field in [
        ("/security/2fa", "status"),
        ("/security/2fa/disable", "challenge"),
        ("/security/2fa/recovery-codes", "challenge"),
    ]:
        response = logged_in_2fa.post(url, {field: ONE_MEGABYTE})
        assert response.status_code == 400, url
        assert "Bad request" in text(response), url
    assert interface.is_enabled(alice_2fa.account)
    assert interface.recovery_codes_left(alice_2fa.account) == 10
    assert failures(alice_2fa.account) == 0


def test_a_form_over_a_megabyte_is_refused_unread_and_logs_no_traceback(logged_in_2fa, alice_2fa):
    security_log = logging.getLogger("django.security")  # it does not propagate to the root
    records: list[logging.LogRecord] = []
    catch = logging.Handler(logging.DEBUG)
    catch.emit = records.append
    security_log.addHandler(catch)
    try:
        response = logged_in_2fa.post("/security/2fa/disable", {"challenge": ONE_MEGABYTE})
    finally:
        security_log.removeHandler(catch)
    assert response.status_code == 400
    assert "The form sent more than 1 MB of data." in text(response)
    assert records == []
    assert interface.is_enabled(alice_2fa.account)


def test_a_megabyte_of_text_in_the_pop_up_is_a_bad_request(pending_client, alice_2fa):
    assert verify(pending_client, ONE_MEGABYTE).status_code == 400
    assert failures(alice_2fa.account) == 0
    assert not is_logged_in(pending_client)


def test_a_megabyte_of_text_in_the_setup_form_is_a_bad_request(logged_in, alice):
    _, _, setup = begin_setup(logged_in)
    response = save_setup(logged_in, setup, ONE_MEGABYTE)
    assert response.status_code == 400
    assert not TotpDevice.objects.filter(person=alice.person).exists()


def csrf_client(tfa=None) -> Client:
    """A browser that sends CSRF tokens only when the test says so, logged in as alice."""
    client = Client(enforce_csrf_checks=True)
    csrf_log_in(client)
    if tfa is not None:
        token = csrf_token(client, "/login")
        client.post("/login/verify", {"challenge": tfa.code(), "csrfmiddlewaretoken": token})
    assert is_logged_in(client)
    return client


@pytest.mark.parametrize(
    ("url", "data"), [("/security/2fa", {"status": "enabled"}), ("/security/2fa/enable", {})]
)
def test_the_enable_forms_are_refused_without_a_csrf_token(alice, url, data):
    response = csrf_client().post(url, data)
    assert response.status_code == 403
    assert "This form has expired" in text(response)
    assert not PendingSetup.objects.filter(person=alice.person).exists()


@pytest.mark.parametrize("url", ["/security/2fa/disable", "/security/2fa/recovery-codes"])
def test_the_code_forms_are_refused_without_a_csrf_token(alice_2fa, url):
    client = csrf_client(alice_2fa)
    response = client.post(url, {"challenge": alice_2fa.next_code()})
    assert response.status_code == 403
    assert "This form has expired" in text(response)
    assert interface.is_enabled(alice_2fa.account)
    assert interface.recovery_codes_left(alice_2fa.account) == 10
    assert failures(alice_2fa.account) == 0


def test_the_setup_form_is_refused_without_a_csrf_token(alice, clock):
    client = Client(enforce_csrf_checks=True)
    csrf_log_in(client)
    token = csrf_token(client, "/security/2fa/enable")
    client.post("/security/2fa/enable", {"csrfmiddlewaretoken": token})
    page = text(client.get("/security/2fa/setup"))
    key, setup = MANUAL_KEY.search(page).group(1).replace(" ", ""), SETUP_ID.search(page).group(1)
    response = save_setup(client, setup, code_for(key, clock))
    assert response.status_code == 403
    assert not TotpDevice.objects.filter(person=alice.person).exists()
    token = csrf_token(client, "/security/2fa/setup")
    response = client.post(
        "/security/2fa/setup",
        {"setup": setup, "challenge": code_for(key, clock), "csrfmiddlewaretoken": token},
    )
    assert ENABLED in text(response)


# --- the app's own row: Replace and Remove (a lost or new phone) ------------------------------


def begin_replacement(client: Client) -> tuple[str, str]:
    """Security → 2FA → Authenticator app → Replace → Next: the new key and its setup id."""
    assert client.post("/security/2fa/app/replace").url == "/security/2fa/app/replace/setup"
    page = text(client.get("/security/2fa/app/replace/setup"))
    assert "<h1>Replace the authenticator app</h1>" in page
    return MANUAL_KEY.search(page).group(1).replace(" ", ""), SETUP_ID.search(page).group(1)


def save_replacement(client: Client, setup: str, challenge: str):
    return client.post("/security/2fa/app/replace/setup", {"setup": setup, "challenge": challenge})


def test_the_app_has_its_own_row_with_replace(logged_in_2fa):
    page = text(logged_in_2fa.get("/security/2fa"))
    assert '<h2 id="app-title">Authenticator app</h2>' in page
    assert 'href="/security/2fa/app/replace" aria-label="Replace authenticator app">Replace' in page
    assert "/security/2fa/app/remove" not in page  # the only second factor: no Remove
    assert "The app is your only second factor, so it cannot be removed on its own." in page


def test_replace_swaps_the_key_at_the_new_apps_first_code_and_keeps_recovery_codes(
    logged_in_2fa, alice_2fa, clock
):
    page = text(logged_in_2fa.get("/security/2fa/app/replace"))
    assert "the old app's codes stop working" in page
    new_key, setup = begin_replacement(logged_in_2fa)
    assert new_key != alice_2fa.key
    # Until the new app proves a code, the old one still works, and its code is no answer here.
    response = save_replacement(logged_in_2fa, setup, alice_2fa.code())
    assert "Invalid code." in text(response)
    assert twofactor.verify_code(alice_2fa.account, alice_2fa.code(), now=clock()).kind == "totp"
    clock.advance(seconds=30)
    response = save_replacement(logged_in_2fa, setup, code_for(new_key, clock))
    assert response.url == "/security/2fa"
    assert "Authenticator app replaced" in text(logged_in_2fa.get("/security/2fa"))
    clock.advance(seconds=30)
    with pytest.raises(Refused, match="Invalid code."):  # the lost phone's codes are dead
        twofactor.verify_code(alice_2fa.account, alice_2fa.code(), now=clock())
    assert twofactor.verify_code(alice_2fa.account, code_for(new_key, clock), now=clock())
    assert (
        interface.recovery_codes_left(alice_2fa.account) == 10 and TotpDevice.objects.count() == 1
    )
    assert Event.objects.filter(event="2fa_app_replaced", actor_name="alice").count() == 1


def test_after_a_recovery_code_sign_in_home_leads_to_replace_and_the_lost_phone_dies(
    alice_2fa, clock
):
    client = Client()
    log_in(client)
    assert verify(client, alice_2fa.recovery_codes[0]).url == "/"
    assert 'href="/security/2fa/app/replace">Replace</a>' in text(client.get("/"))
    new_key, setup = begin_replacement(client)  # the sign-in counts as Confirm access
    assert save_replacement(client, setup, code_for(new_key, clock)).url == "/security/2fa"
    clock.advance(seconds=30)
    thief = Client()
    log_in(thief)
    assert "Invalid code." in text(verify(thief, alice_2fa.code()))
    assert interface.recovery_codes_left(alice_2fa.account) == 9


def test_replace_and_remove_ask_to_confirm_access(logged_in_2fa, clock):
    clock.advance(minutes=11)
    for url in ("/security/2fa/app/replace", "/security/2fa/app/remove"):
        assert logged_in_2fa.get(url).url.startswith("/security/confirm?next=")
        assert logged_in_2fa.post(url).url.startswith("/security/confirm?next=")
    assert not PendingSetup.objects.exists() and TotpDevice.objects.count() == 1


def test_the_only_factor_cannot_be_removed_on_its_own(logged_in_2fa, alice_2fa):
    response = logged_in_2fa.post("/security/2fa/app/remove")
    assert response.url == "/security/2fa"
    assert "cannot be removed" in text(logged_in_2fa.get("/security/2fa"))
    assert interface.methods(alice_2fa.account) == ["totp"]


def test_remove_takes_the_app_where_a_key_remains_and_keeps_2fa_on(logged_in_2fa, alice_2fa, key):
    assert add_key(logged_in_2fa, key).status_code == 302
    page = text(logged_in_2fa.get("/security/2fa"))
    assert 'href="/security/2fa/app/remove" aria-label="Remove authenticator app">Remove' in page
    confirmation = text(logged_in_2fa.get("/security/2fa/app/remove"))
    assert "Two-factor authentication stays on" in confirmation
    assert logged_in_2fa.post("/security/2fa/app/remove").url == "/security/2fa"
    assert interface.methods(alice_2fa.account) == ["key"]
    assert interface.recovery_codes_left(alice_2fa.account) == 10
    assert "removes your security key and all recovery codes" in text(
        logged_in_2fa.get("/security/2fa")
    )
    assert Event.objects.filter(event="2fa_app_removed").count() == 1


def test_the_status_and_disable_pages_say_what_disabled_removes(logged_in_2fa):
    status = text(logged_in_2fa.get("/security/2fa"))
    assert (
        "<strong>Disabled</strong> removes your authenticator app and all recovery codes." in status
    )
    assert "use <strong>Replace</strong> below instead" in status
    disable = text(logged_in_2fa.get("/security/2fa/disable"))
    assert "removes your authenticator app and all recovery codes;" in disable
    assert 'href="/security/2fa/app/replace">replace the authenticator app</a>' in disable


def test_the_new_app_events_have_labels_on_the_logs_page():
    assert event_label("2fa_app_replaced") == "Authenticator app replaced"
    assert event_label("2fa_app_removed") == "Authenticator app removed"
    assert event_label("2fa_app_added") == "Authenticator app added"
