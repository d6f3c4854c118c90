"""Handing over the recovery codes, and setting up on a phone (issue 11, "Friendlier where
people stumble"), in a real Chromium on a laptop and on a phone, with and without JavaScript.

Done needs "I have saved these codes" ticked (Copy, Download or Print tick it); leaving the
page before that asks first. The setup page offers Open in authenticator app and Copy.
"""

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live import LiveServer, NewPage, Shot
from tests.e2e.pages import (
    ENABLED,
    assert_fits_width,
    choose_status,
    log_in,
    open_two_factor_page,
    read_manual_key,
)

pytestmark = pytest.mark.e2e

SAVED = "I have saved these codes"


def reach_recovery_codes(
    page: Page, server: LiveServer, username: str, shot: Shot, *, javascript: bool = True
) -> str:
    """Log in a new account, enable 2FA up to the recovery codes; returns the key."""
    account = server.create_account(username)
    log_in(page, account.username, account.password)
    open_two_factor_page(page)
    choose_status(page, "Enabled")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    key = read_manual_key(page)
    expect(page.get_by_role("button", name="Copy key")).to_have_count(1 if javascript else 0)
    shot(page, "setup")
    page.get_by_label("Challenge").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(ENABLED)).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(
        10
    )
    return key


def done_is_refused(page: Page) -> None:
    """Done without the box: the browser keeps the page and points at the box."""
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert page.get_by_label(SAVED).evaluate("box => !box.validity.valid")


def test_on_a_laptop_done_waits_for_a_hand_off_and_leaving_asks_first(
    laptop: Page, server: LiveServer, shot: Shot
) -> None:
    page = laptop
    reach_recovery_codes(page, server, "handoff-laptop", shot)
    expect(page.get_by_label(SAVED)).not_to_be_checked()
    done_is_refused(page)
    message = page.get_by_label(SAVED).evaluate("box => box.validationMessage")
    assert message == "Copy, download or print the codes, or tick “I have saved these codes”."
    shot(page, "done-refused")

    # Leaving by the menu before the hand-off: the browser asks; staying keeps the codes.
    page.once("dialog", lambda dialog: dialog.dismiss())
    with page.expect_event("dialog") as asked:
        menu = page.get_by_role("navigation", name="Main")
        menu.get_by_role("link", name="Home").click(no_wait_after=True)
    assert asked.value.type == "beforeunload"
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()

    # Download hands them over: the box is ticked, Done leads back to Security → 2FA.
    with page.expect_download():
        page.get_by_role("link", name="Download (.txt)").click()
    expect(page.get_by_label(SAVED)).to_be_checked()
    shot(page, "after-download")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="Two-factor authentication (2FA)")).to_be_visible()
    expect(page.get_by_text(ENABLED).first).to_be_visible()
    shot(page, "done")


def test_copy_hands_the_codes_over_too(laptop: Page, server: LiveServer, shot: Shot) -> None:
    page = laptop
    reach_recovery_codes(page, server, "handoff-copy", shot)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Recovery codes copied.")).to_be_visible()
    expect(page.get_by_label(SAVED)).to_be_checked()
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="Two-factor authentication (2FA)")).to_be_visible()


def test_on_a_phone_the_setup_opens_the_app_and_copies_the_key(
    phone: Page, server: LiveServer, shot: Shot
) -> None:
    page = phone
    account = server.create_account("handoff-phone")
    log_in(page, account.username, account.password)
    open_two_factor_page(page)
    choose_status(page, "Enabled")
    page.get_by_role("button", name="Next").click()
    key = read_manual_key(page)
    open_app = page.get_by_role("link", name="Open in authenticator app")
    expect(open_app).to_be_visible()
    uri = urlsplit(open_app.get_attribute("href"))
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert f"secret={key}" in uri.query
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_text("Key copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert_fits_width(page)
    shot(page, "setup")

    page.get_by_label("Challenge").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(ENABLED)).to_be_visible()
    done_is_refused(page)
    assert_fits_width(page)
    shot(page, "recovery-codes")
    page.get_by_label(SAVED).check()
    shot(page, "ticked")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("heading", name="Two-factor authentication (2FA)")).to_be_visible()
    shot(page, "done")


def test_without_javascript_done_needs_the_box(
    new_page: NewPage, server: LiveServer, shot: Shot
) -> None:
    page = new_page(javascript=False)
    reach_recovery_codes(page, server, "handoff-nojs", shot, javascript=False)
    done_is_refused(page)
    shot(page, "done-refused")
    page.get_by_label(SAVED).check()
    page.get_by_role("button", name="Done").click()
    expect(page).to_have_url(re.compile(r"/security/2fa\?saved=on$"))
    expect(page.get_by_text(ENABLED).first).to_be_visible()
