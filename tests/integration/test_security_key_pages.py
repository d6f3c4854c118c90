"""SPEC §11 with §4 and §12: the pages that ask for "a code or a key", for an account with an
authenticator app only, security keys only, or both; and Generate new recovery codes confirmed
with a key.

An account without an app has no six-digit code to give: its pages offer Use security key,
take a recovery code where recovery codes are accepted, and never ask for a 6-digit code.
"""

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from adminpanel.audit.models import Event
from adminpanel.twofactor.models import RecoveryCode
from tests.factors import TwoFactor
from tests.integration.keys import BAD_ANSWERS, ORIGIN, add_key, options, use_key
from tests.integration.panel import (
    PASSWORD,
    RECOVERY_CODE,
    failures,
    log_in,
    text,
    verify,
)
from tests.softkey import SoftKey

pytestmark = pytest.mark.django_db

KEY_OR_RECOVERY = "Use your security key, or enter one of your recovery codes."
MALFORMED = "Enter the 6-digit code from your authenticator app."
MALFORMED_OR_RECOVERY = "Enter the 6-digit code from your authenticator app, or a recovery code."
REGENERATED = "New recovery codes were generated. The old ones no longer work."
USE_KEY_TO_REGENERATE = "This account has no authenticator app: confirm with your security key."


def offers_key(page: str) -> bool:
    return ">Use security key</button>" in page.replace("</svg>", "")


def offers_challenge(page: str) -> bool:
    return '<label for="id_challenge">Challenge</label>' in page


def challenge_input(page: str) -> str:
    start = page.index('<input type="text" name="challenge"')
    return page[start : page.index(">", start)]


def code_hashes(account) -> set[str]:
    return set(
        RecoveryCode.objects.filter(person=account.person).values_list("code_hash", flat=True)
    )


# --- Alice with an app, keys, or both ----------------------------------------------------------


@dataclass
class Alice:
    """Alice, signed in, with the second factors of `kind`."""

    kind: str  # "app", "keys" or "both"
    browser: Client
    key: SoftKey | None
    app: TwoFactor | None
    recovery_codes: list[str]

    @property
    def has_app(self) -> bool:
        return self.app is not None

    @property
    def keys_only(self) -> bool:
        return self.app is None


def alice_with(kind: str, alice, enable_2fa, clock) -> Alice:
    app = enable_2fa(alice) if kind != "keys" else None
    browser = Client()
    log_in(browser)
    if app is not None:
        assert verify(browser, app.next_code()).url == "/"
        clock.advance(seconds=30)  # that step is spent
    key, codes = None, app.recovery_codes if app else []
    if kind != "app":
        key = SoftKey(ORIGIN)
        added = add_key(browser, key)
        codes = codes or RECOVERY_CODE.findall(added.content.decode())
    return Alice(kind, browser, key, app, codes)


@pytest.fixture(params=["app", "keys", "both"])
def alice_2fa_by(request, alice, enable_2fa, clock) -> Alice:
    """Alice with an app, with keys, and with both (one test run each)."""
    return alice_with(request.param, alice, enable_2fa, clock)


@pytest.fixture
def alice_keys_only(alice, enable_2fa, clock) -> Alice:
    return alice_with("keys", alice, enable_2fa, clock)


@pytest.fixture
def alice_both(alice, enable_2fa, clock) -> Alice:
    return alice_with("both", alice, enable_2fa, clock)


def regenerate_with_key(client: Client, answer: dict):
    """Generate new recovery codes → Use security key, with the browser's answer."""
    return client.post("/security/2fa/recovery-codes/key", {"credential": json.dumps(answer)})


# --- every page that asks for a code or a key ----------------------------------------------


def test_the_login_popup_offers_what_the_account_has(alice_2fa_by):
    visitor = Client()
    log_in(visitor)
    page = text(visitor.get("/login"))
    assert offers_key(page) == (alice_2fa_by.kind != "app")
    assert offers_challenge(page)  # a recovery code always works there
    if alice_2fa_by.keys_only:
        assert "6-digit" not in page
        assert 'inputmode="text"' in challenge_input(page)  # recovery codes have letters
        assert "autofocus" not in challenge_input(page)  # Use security key comes first
    else:
        assert "the 6-digit code from your authenticator app." in page
        assert 'inputmode="numeric"' in challenge_input(page)


def key_button(page: str) -> str:
    start = page.rindex("<button", 0, page.index(">Use security key"))
    return page[start : page.index(">", start)]


def test_with_a_key_and_an_app_the_login_popup_puts_the_key_first(alice_both):
    """Issue 21 item 11: the key is the first, primary and focused answer; the code second."""
    visitor = Client()
    log_in(visitor)
    page = text(visitor.get("/login"))
    assert page.index(">Use security key") < page.index('<label for="id_challenge">')
    assert 'class="button primary wide key-button"' in key_button(page)
    assert "autofocus" in key_button(page)
    assert "autofocus" not in challenge_input(page)
    assert '<button class="button secondary" type="submit">Verify</button>' in page


def test_the_throttled_login_popup_says_one_message_and_waits(alice_both):
    """Issue 21 item 11: while throttled, one message (not also under the field and above the
    pop-up), both buttons disabled until the wait ends, recovery codes not offered."""
    visitor = Client()
    log_in(visitor)
    for _ in range(5):
        response = verify(visitor, alice_both.app.wrong_code())
    page = text(response)
    assert "Invalid code. Too many failed attempts. Try again in 1 minute." in page
    assert page.count("Too many failed attempts") == 1
    assert "Lost it? Enter one of your recovery codes instead." not in page
    assert "Recovery codes and security keys wait too." in page
    assert "disabled" in key_button(page)
    assert (
        '<button class="button secondary" type="submit" disabled data-wait>Verify</button>' in page
    )
    # a code or a key answered while waiting is refused unchecked: one message, buttons off
    response = verify(visitor, alice_both.app.next_code())
    assert response.status_code == 429
    assert text(response).count("Too many failed attempts") == 1
    page = text(use_key(visitor, alice_both.key.get(options(visitor, "login"))))
    assert page.count("Too many failed attempts") == 1
    assert "disabled" in key_button(page)


def test_an_empty_challenge_in_the_login_popup_says_what_to_give(alice_2fa_by, alice):
    visitor = Client()
    log_in(visitor)
    page = text(verify(visitor, ""))
    assert (KEY_OR_RECOVERY if alice_2fa_by.keys_only else MALFORMED) in page
    assert failures(alice) == 0


def test_the_disable_page_offers_what_the_account_has(alice_2fa_by):
    page = text(alice_2fa_by.browser.get("/security/2fa/disable"))
    assert offers_key(page) == (alice_2fa_by.kind != "app")
    assert offers_challenge(page)
    if alice_2fa_by.keys_only:
        assert "6-digit" not in page
        assert "One of your recovery codes." in page
    else:
        assert "A current 6-digit code or a recovery code." in page


def test_an_empty_challenge_on_the_disable_page_says_what_to_give(alice_2fa_by):
    page = text(alice_2fa_by.browser.post("/security/2fa/disable", {"challenge": ""}))
    assert (KEY_OR_RECOVERY if alice_2fa_by.keys_only else MALFORMED) in page
    assert "Two-factor authentication is enabled." in text(
        alice_2fa_by.browser.get("/security/2fa")
    )


def test_the_regenerate_page_offers_what_the_account_has(alice_2fa_by):
    page = text(alice_2fa_by.browser.get("/security/2fa/recovery-codes"))
    assert "10 of 10 recovery codes left." in page
    assert offers_key(page) == (alice_2fa_by.kind != "app")
    assert offers_challenge(page) == alice_2fa_by.has_app  # a recovery code cannot confirm
    assert ("6-digit" in page) == alice_2fa_by.has_app


def test_confirm_access_offers_what_the_account_has(alice_2fa_by, clock):
    clock.advance(minutes=11)
    page = text(alice_2fa_by.browser.get("/security/confirm?next=/security/2fa"))
    assert offers_key(page) == (alice_2fa_by.kind != "app")
    assert offers_challenge(page)
    if alice_2fa_by.keys_only:
        assert "6-digit" not in page
        assert "Enter your password, then use your security key." in page
        assert "Lost your key? Enter one of your recovery codes" in page
    else:
        assert "A current 6-digit code from your authenticator app, or a recovery code." in page


def test_confirm_access_without_javascript_says_what_to_give_instead_of_a_key(alice_2fa_by, clock):
    clock.advance(minutes=11)
    page = text(alice_2fa_by.browser.get("/security/confirm?next=/security/2fa"))
    if alice_2fa_by.kind == "app":
        assert "<noscript>" not in page
        return
    noscript = page[page.index("<noscript>") : page.index("</noscript>")]
    assert "Security keys need JavaScript." in noscript
    if alice_2fa_by.keys_only:
        assert "enter one of your recovery codes" in noscript
    else:
        assert "enter a code from your authenticator app or a recovery code" in noscript
    button = page[page.rindex("<button", 0, page.index(">Use security key")) :]
    assert "js-only" in button[: button.index(">")]  # hidden where it could not work


def test_confirm_access_without_an_answer_says_what_to_give(alice_2fa_by, clock):
    clock.advance(minutes=11)
    response = alice_2fa_by.browser.post(
        "/security/confirm", {"password": PASSWORD, "challenge": "", "next": "/security/2fa"}
    )
    page = text(response)
    assert (KEY_OR_RECOVERY if alice_2fa_by.keys_only else MALFORMED_OR_RECOVERY) in page
    assert not Event.objects.filter(event="access_confirmed").exists()


def test_confirm_access_without_a_password_says_so(alice_keys_only, clock):
    clock.advance(minutes=11)
    response = alice_keys_only.browser.post(
        "/security/confirm", {"password": "", "next": "/security/2fa"}
    )
    assert response.status_code == 400
    assert "Enter your password." in text(response)


def test_a_recovery_code_confirms_access_for_an_account_with_only_keys(alice_keys_only, clock):
    clock.advance(minutes=11)
    response = alice_keys_only.browser.post(
        "/security/confirm",
        {
            "password": PASSWORD,
            "challenge": alice_keys_only.recovery_codes[0],
            "next": "/security/2fa",
        },
    )
    assert response.status_code == 302 and response.url == "/security/2fa"


def test_a_refused_key_answer_at_confirm_access_is_said_beside_the_key(alice_keys_only, clock):
    clock.advance(minutes=11)
    answer = alice_keys_only.key.get(
        options(alice_keys_only.browser, "confirm"), origin="https://evil.test"
    )
    response = alice_keys_only.browser.post(
        "/security/confirm",
        {"password": PASSWORD, "credential": json.dumps(answer), "next": "/security/2fa"},
    )
    page = text(response)
    status = page[page.index('id="confirm-key-status"') :]
    assert status.startswith('id="confirm-key-status" role="alert">This answer was made for')
    assert 'aria-invalid="true"' not in challenge_input(page)


def test_an_unreadable_key_answer_at_confirm_access_gets_a_clear_message(alice_keys_only, clock):
    clock.advance(minutes=11)
    response = alice_keys_only.browser.post(
        "/security/confirm",
        {"password": PASSWORD, "credential": "x" * 70_000, "next": "/security/2fa"},
    )
    assert response.status_code == 400
    assert "The security key's answer could not be read. Try again." in text(response)
    assert not Event.objects.filter(event="access_confirmed").exists()


# --- Generate new recovery codes, confirmed with a key -------------------------------------


def test_an_account_with_only_keys_generates_new_recovery_codes_with_a_key(alice_keys_only, alice):
    old = code_hashes(alice)
    browser = alice_keys_only.browser
    response = regenerate_with_key(browser, alice_keys_only.key.get(options(browser, "regenerate")))
    assert response.status_code == 200
    assert REGENERATED in text(response)
    assert len(RECOVERY_CODE.findall(response.content.decode())) == 10
    assert len(code_hashes(alice)) == 10 and not code_hashes(alice) & old
    assert "in place of a key" in text(response)


def test_new_recovery_codes_with_a_key_are_logged_like_with_a_code(alice_keys_only):
    browser = alice_keys_only.browser
    regenerate_with_key(browser, alice_keys_only.key.get(options(browser, "regenerate")))
    regenerated = Event.objects.get(event="2fa_recovery_codes_regenerated")
    assert regenerated.actor_name == "alice" and regenerated.details["method"] == "key"
    used = Event.objects.filter(event="webauthn_key_used").last()
    assert used.details["purpose"] == "regenerate"


def test_the_old_recovery_codes_die_when_a_key_confirms_new_ones(alice_keys_only):
    browser = alice_keys_only.browser
    response = regenerate_with_key(browser, alice_keys_only.key.get(options(browser, "regenerate")))
    new_codes = RECOVERY_CODE.findall(response.content.decode())
    visitor = Client()
    log_in(visitor)
    assert "Invalid code." in text(verify(visitor, alice_keys_only.recovery_codes[0]))
    assert verify(visitor, new_codes[0]).url == "/"


def test_an_account_with_an_app_and_a_key_may_use_either(alice_both, alice):
    browser = alice_both.browser
    by_key = regenerate_with_key(browser, alice_both.key.get(options(browser, "regenerate")))
    assert len(RECOVERY_CODE.findall(by_key.content.decode())) == 10
    assert "in place of a code or a key" in text(by_key)
    by_code = browser.post("/security/2fa/recovery-codes", {"challenge": alice_both.app.code()})
    assert len(RECOVERY_CODE.findall(by_code.content.decode())) == 10
    regenerated = Event.objects.filter(event="2fa_recovery_codes_regenerated").order_by("id")
    assert [e.details["method"] for e in regenerated] == ["key", "totp"]


def test_a_code_cannot_confirm_new_recovery_codes_for_an_account_with_only_keys(
    alice_keys_only, alice
):
    old = code_hashes(alice)
    for challenge in ("123456", "", alice_keys_only.recovery_codes[0]):
        response = alice_keys_only.browser.post(
            "/security/2fa/recovery-codes", {"challenge": challenge}
        )
        assert response.status_code == 200
        assert USE_KEY_TO_REGENERATE in text(response)
        assert not RECOVERY_CODE.findall(response.content.decode())
    assert code_hashes(alice) == old and failures(alice) == 0


def test_a_refused_key_answer_keeps_the_recovery_codes_and_counts(alice_keys_only, alice):
    old = code_hashes(alice)
    browser = alice_keys_only.browser
    answer = alice_keys_only.key.get(options(browser, "regenerate"), origin="https://evil.test")
    response = regenerate_with_key(browser, answer)
    assert response.status_code == 302 and response.url == "/security/2fa/recovery-codes"
    assert "This answer was made for another web address" in text(browser.get(response.url))
    assert code_hashes(alice) == old
    assert failures(alice) == 1


def test_a_key_answer_made_for_another_step_cannot_make_recovery_codes(alice_keys_only, alice):
    old = code_hashes(alice)
    browser = alice_keys_only.browser
    answer = alice_keys_only.key.get(options(browser, "disable"))
    response = regenerate_with_key(browser, answer)
    assert "This answer was made for another step." in text(browser.get(response.url))
    assert code_hashes(alice) == old


def test_a_replayed_key_answer_makes_no_second_set(alice_keys_only, alice):
    browser = alice_keys_only.browser
    answer = alice_keys_only.key.get(options(browser, "regenerate"))
    first = RECOVERY_CODE.findall(regenerate_with_key(browser, answer).content.decode())
    again = regenerate_with_key(browser, answer)
    assert "This security key answer has already been used." in text(browser.get(again.url))
    assert Event.objects.filter(event="2fa_recovery_codes_regenerated").count() == 1
    visitor = Client()
    log_in(visitor)
    assert verify(visitor, first[0]).url == "/"  # the set the first answer made stands


def test_new_recovery_codes_with_a_key_need_a_recent_sign_in(alice_keys_only, alice, clock):
    old = code_hashes(alice)
    browser = alice_keys_only.browser
    answer = alice_keys_only.key.get(options(browser, "regenerate"))
    clock.advance(minutes=11)
    response = regenerate_with_key(browser, answer)
    assert response.url == "/security/confirm?next=%2Fsecurity%2F2fa%2Frecovery-codes"
    assert code_hashes(alice) == old


@pytest.mark.parametrize("answer", BAD_ANSWERS, ids=range(len(BAD_ANSWERS)))
def test_a_garbage_key_answer_makes_no_recovery_codes(alice_keys_only, alice, answer):
    old = code_hashes(alice)
    browser = alice_keys_only.browser
    options(browser, "regenerate")
    response = browser.post("/security/2fa/recovery-codes/key", {"credential": answer})
    assert response.status_code == 302
    assert "could not be read" in text(browser.get(response.url))
    assert code_hashes(alice) == old and failures(alice) == 0


def test_no_answer_at_all_says_keys_need_javascript(alice_keys_only):
    browser = alice_keys_only.browser
    response = browser.post("/security/2fa/recovery-codes/key", {"credential": ""})
    assert "Security keys need JavaScript" in text(browser.get(response.url))


@pytest.mark.django_db
def test_a_host_name_not_ours_gets_the_bad_request_page_not_an_error(client):
    # The 400 page's template context asks where keys work: it must not ask the bad Host again.
    response = client.get("/login", HTTP_HOST="not-ours.example")
    assert response.status_code == 400
    assert b"Bad request" in response.content
