"""Security keys and passkeys in a real Chromium (SPEC §11), with its virtual authenticator.

Chromium's DevTools protocol gives each page a virtual authenticator (CTAP2, internal
transport, resident keys, user verification): the browser's real WebAuthn code makes and
signs the credentials, our script carries them, the panel checks them. WebAuthn needs a host
name, so these pages open the live server as http://localhost:PORT.
"""

import re

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.authenticator import VirtualAuthenticator
from tests.e2e.live import LAPTOP, LiveServer, Shot
from tests.e2e.pages import eleven_minutes_later

pytestmark = pytest.mark.e2e

ENABLED = "Two-factor authentication is enabled."
KEY_OR_RECOVERY = "Use your security key, or enter one of your recovery codes."
DISABLED = "Two-factor authentication is disabled."


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def open_two_factor_page(page: Page) -> None:
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_text("Security", exact=True).click()
    menu.get_by_role("link", name="2FA").click()
    expect(page.get_by_role("heading", name="Two-factor authentication (2FA)")).to_be_visible()


LONG_NAME = "Backup-YubiKey-5C-NFC-kept-in-the-fireproof-safe-at-the-office-2"  # 64, no space


def recovery_codes_handed_over(page: Page) -> None:
    """The 10 codes are shown; tick "I have saved these codes" and press Done."""
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    page.get_by_label("I have saved these codes").check()
    page.get_by_role("button", name="Done").click()


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_add_a_key_log_in_with_it_sign_in_with_a_passkey_and_remove_it(
    server: LiveServer, localhost, shot: Shot, device: str
) -> None:
    account = server.create_account(f"key-user-{device}", level=1)
    page = localhost(phone=device == "phone")
    authenticator = VirtualAuthenticator(page)

    # Security → 2FA → Security keys: Key name, Add security key, the browser's prompt
    log_in(page, account.username, account.password)
    open_two_factor_page(page)
    keys = page.get_by_role("region", name="Security keys")
    expect(keys.get_by_text("No security keys yet.")).to_be_visible()
    shot(page, "security-keys-empty")
    keys.get_by_label("Key name").fill("Laptop passkey")
    keys.get_by_role("button", name="Add security key").click()
    expect(page.get_by_text("Security key “Laptop passkey” added.")).to_be_visible()
    expect(page.get_by_text(ENABLED)).to_be_visible()
    assert len(authenticator.credentials()) == 1
    assert authenticator.credentials()[0]["isResidentCredential"]
    shot(page, "first-key-recovery-codes")
    recovery_codes_handed_over(page)
    row = page.get_by_role("row", name="Laptop passkey")
    expect(row).to_contain_text("Never")
    # the browser says it keeps the account (credProps): listed as a passkey (issue 21 item 12)
    expect(row.get_by_role("cell", name=re.compile("Passkey"))).to_contain_text(
        "signs in without a password"
    )
    expect(page.get_by_text("With a security key")).to_be_visible()
    shot(page, "key-listed")

    # Generate new recovery codes: with only a key, the key confirms it (no code is asked)
    page.get_by_role("link", name="Generate new recovery codes").click()
    expect(page.get_by_role("heading", name="Generate new recovery codes")).to_be_visible()
    expect(page.get_by_role("button", name="Use security key")).to_be_focused()
    expect(page.get_by_label("Challenge")).to_have_count(0)
    shot(page, "regenerate-with-key")
    page.get_by_role("button", name="Use security key").click()
    expect(page.get_by_text("New recovery codes were generated.")).to_be_visible()
    shot(page, "regenerated-with-key")
    recovery_codes_handed_over(page)

    # a second key with a long name (from another authenticator): the list wraps it; Remove asks
    first_key = authenticator.credentials()
    authenticator.hold_only([])
    keys.get_by_label("Key name").fill(LONG_NAME)
    keys.get_by_role("button", name="Add security key").click()
    expect(page.get_by_text(f"Security key “{LONG_NAME}” added.")).to_be_visible()
    expect(page.get_by_text("With 2 security keys")).to_be_visible()
    shot(page, "two-keys-long-name")
    page.get_by_role("row", name=LONG_NAME).get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", name="Remove security key")).to_be_visible()
    shot(page, "remove-confirmation")
    page.get_by_role("button", name="Remove", exact=True).click()
    expect(page.get_by_text(f"Security key “{LONG_NAME}” removed.")).to_be_visible()
    authenticator.hold_only(first_key)

    # 11 minutes later, Confirm access asks for the password and the key (no 6-digit code)
    eleven_minutes_later(server, page)
    page.get_by_role("link", name="Generate new recovery codes").click()
    expect(page.get_by_role("heading", name="Confirm access", level=1)).to_be_visible()
    expect(page.get_by_text("Enter your password, then use your security key.")).to_be_visible()
    expect(page.get_by_text("6-digit")).to_have_count(0)
    shot(page, "confirm-access-with-key")
    page.get_by_role("button", name="Use security key").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter your password first")
    expect(page.get_by_label("Password")).to_be_focused()
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Confirm").click()  # neither the key nor a recovery code
    expect(page.get_by_text(KEY_OR_RECOVERY)).to_be_visible()
    shot(page, "confirm-access-without-an-answer")
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Use security key").click()
    expect(page.get_by_role("heading", name="Generate new recovery codes")).to_be_visible()

    # log out; log in with password + key: the pop-up starts at Use security key
    log_out(page)
    log_in(page, account.username, account.password)
    dialog = page.get_by_role("dialog", name="Two-factor authentication")
    expect(dialog.get_by_role("button", name="Use security key")).to_be_focused()
    expect(dialog.get_by_label("Challenge")).to_be_visible()  # recovery codes still work
    expect(dialog.get_by_text("6-digit")).to_have_count(0)
    shot(page, "pop-up-use-security-key")
    dialog.get_by_role("button", name="Use security key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Security overview")
    shot(page, "logged-in-with-key")

    # log out; sign in with the passkey alone
    log_out(page)
    shot(page, "sign-in-with-a-passkey")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Security overview")
    expect(page.get_by_text(account.username).first).to_be_visible()
    shot(page, "signed-in-with-passkey")
    open_two_factor_page(page)
    expect(page.get_by_role("row", name="Laptop passkey")).not_to_contain_text("Never")

    # remove the key: it is the last second factor, so removing it is disabling 2FA
    page.get_by_role("row", name="Laptop passkey").get_by_role("link", name="Remove").click()
    expect(page.get_by_text("This is your last second factor")).to_be_visible()
    expect(page.get_by_role("button", name="Use security key")).to_be_focused()
    shot(page, "remove-last-key")
    page.get_by_role("button", name="Use security key").click()
    expect(page.get_by_role("status").filter(has_text=DISABLED)).to_be_visible()
    expect(page.get_by_text("You can now delete the entry from your 2FA app.")).to_be_visible()
    expect(page.get_by_role("region", name="Security keys")).to_contain_text(
        "No security keys yet."
    )
    shot(page, "key-removed-2fa-disabled")


def test_an_account_with_an_app_and_a_key_is_offered_both(
    server: LiveServer, localhost, shot: Shot
) -> None:
    account = server.create_account("app-and-key-user", two_factor=True)
    page = localhost()
    VirtualAuthenticator(page)
    log_in(page, account.username, account.password)
    dialog = page.get_by_role("dialog", name="Two-factor authentication")
    expect(dialog.get_by_role("button", name="Use security key")).to_have_count(0)
    dialog.get_by_label("Challenge").fill(pyotp.TOTP(account.key).now())
    dialog.get_by_role("button", name="Verify").click()
    open_two_factor_page(page)
    keys = page.get_by_role("region", name="Security keys")
    keys.get_by_label("Key name").fill("Phone passkey")
    keys.get_by_role("button", name="Add security key").click()
    expect(page.get_by_text("Security key “Phone passkey” added.")).to_be_visible()
    expect(page.get_by_text("With an authenticator app and a security key")).to_be_visible()

    page.get_by_role("link", name="Generate new recovery codes").click()
    expect(page.get_by_role("button", name="Use security key")).to_be_visible()
    expect(page.get_by_label("Challenge")).to_be_visible()
    shot(page, "regenerate-with-a-code-or-a-key")

    log_out(page)
    log_in(page, account.username, account.password)
    # The key first (issue 21 item 11): focused, the code beside it.
    expect(dialog.get_by_role("button", name="Use security key")).to_be_focused()
    expect(dialog.get_by_label("Challenge")).to_be_visible()
    expect(dialog).to_contain_text("or enter the 6-digit code from your authenticator app")
    shot(page, "pop-up-with-both")
    dialog.get_by_role("button", name="Use security key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Security overview")


def test_a_passkey_the_panel_never_registered_is_refused(
    server: LiveServer, localhost, shot: Shot
) -> None:
    page = localhost()
    authenticator = VirtualAuthenticator(page)
    authenticator.add_foreign_passkey("localhost")
    page.goto("/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_text("This passkey is not registered here.")).to_be_visible()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, "refused")


def test_a_browser_without_webauthn_is_told_so(server: LiveServer, browser: Browser, shot: Shot):
    """A browser without WebAuthn gets a message instead of a button that cannot work."""
    # At localhost, where keys could work (at 127.0.0.1 the page says they need a host name).
    context = browser.new_context(
        base_url=server.url.replace("127.0.0.1", "localhost"), viewport=LAPTOP
    )
    page = context.new_page()
    page.add_init_script("delete window.PublicKeyCredential;")
    page.goto("/login")
    expect(page.get_by_text("This browser cannot use security keys or passkeys")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_disabled()
    shot(page, "no-webauthn")
    context.close()


def test_a_cancelled_prompt_is_explained(server: LiveServer, localhost, shot: Shot) -> None:
    page = localhost()
    VirtualAuthenticator(page)  # holds no passkey for this site: the browser's prompt fails
    page.goto("/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("The security key prompt was cancelled")
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_enabled()
    shot(page, "cancelled")


def test_at_an_ip_address_the_login_page_says_where_passkeys_work(
    server: LiveServer, browser: Browser, shot: Shot
):
    context = browser.new_context(base_url=server.url, viewport=LAPTOP)
    page = context.new_page()
    page.goto("/login")
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_have_count(0)
    there = server.url.replace("127.0.0.1", "localhost") + "/login"
    expect(page.get_by_role("link", name=there)).to_have_attribute("href", there)
    shot(page, "login-at-an-ip-address")
    page.get_by_role("link", name=there).click()
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    context.close()
