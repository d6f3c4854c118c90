"""My mailbox in a real browser (SPEC §14), on a laptop and on a phone: the Admin adds a
mailbox; its owner signs in at /mailbox/login, turns 2FA on with a code computed from the QR
code (read as a camera would), keeps the recovery codes, creates an app password (shown once),
signs out and back in through the 2FA pop-up. Every page is photographed and none scrolls
sideways."""

from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live import NewPage, Shot
from tests.e2e.pages import ENABLED, assert_fits_width, choose_status, log_in_admin, open_section
from tests.qr import decode_qr

pytestmark = pytest.mark.e2e

PASSWORD = "Mailbox-Cobalt-Harbor-27"


def add_mailbox(page: Page, domain: str, address: str) -> None:
    """The Admin adds the domain and the mailbox on their pages."""
    log_in_admin(page)
    open_section(page, "Domains")
    page.get_by_role("link", name="Add Domain").click()
    page.get_by_label("Domain name").fill(domain)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the domain {domain}.")).to_be_visible()
    open_section(page, "Users")
    page.get_by_role("link", name="Add Mailbox").click()
    page.get_by_label("Address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the mailbox {address}.")).to_be_visible()


def sign_in(page: Page, address: str) -> None:
    page.goto("/mailbox/login")
    page.get_by_label("Email address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def key_from_qr(page: Page) -> str:
    """The secret of the otpauth URI the QR code holds (what the authenticator app reads)."""
    svg = page.get_by_role("img", name="QR code").evaluate("element => element.outerHTML")
    uri = decode_qr(svg)
    assert uri.startswith("otpauth://totp/"), uri
    return parse_qs(urlsplit(uri).query)["secret"][0]


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_an_owner_turns_2fa_on_and_creates_an_app_password(
    new_page: NewPage, shot: Shot, device: str
) -> None:
    domain = f"owner-{device}.example"
    address = f"ann@{domain}"
    add_mailbox(new_page(), domain, address)

    page = new_page(phone=device == "phone")
    page.goto("/mailbox/login")
    expect(page.get_by_label("Email address")).to_be_focused()
    assert_fits_width(page)
    shot(page, "sign-in")
    sign_in(page, address)
    expect(page.get_by_role("heading", name=address)).to_be_visible()
    expect(page.get_by_role("heading", name="Storage")).to_be_visible()
    assert_fits_width(page)
    shot(page, "home")

    # 2FA: the Admin's flow, with the mail apps' consequence said before Save.
    page.get_by_role("link", name="Enable 2FA").click()
    choose_status(page, "Enabled")
    expect(page.get_by_role("heading", name="Before you start")).to_be_visible()
    expect(page.get_by_text("Mail apps will need app passwords.")).to_be_visible()
    assert_fits_width(page)
    shot(page, "requirements")
    page.get_by_role("button", name="Next").click()
    key = key_from_qr(page)
    assert_fits_width(page)
    shot(page, "setup")
    page.get_by_label("Challenge").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(ENABLED)).to_be_visible()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    first_code = codes.first.inner_text().strip()
    assert_fits_width(page)
    shot(page, "recovery-codes")

    # An app password for the phone's mail app: shown once, then listed without it.
    page.get_by_role("navigation", name="My mailbox").get_by_role(
        "link", name="App passwords"
    ).click()
    page.get_by_label("Name").fill("Phone")
    page.get_by_role("button", name="Create app password").click()
    secret = page.locator("#app-password").inner_text()
    assert len(secret.replace(" ", "")) == 24, secret
    expect(page.get_by_text("It is shown only now")).to_be_visible()
    assert_fits_width(page)
    shot(page, "app-password-created")
    page.goto("/mailbox/app-passwords")  # a new visit: the secret is not shown again
    expect(page.get_by_text(secret)).to_have_count(0)
    expect(page.get_by_role("cell", name="Phone", exact=True)).to_be_visible()
    assert_fits_width(page)
    shot(page, "app-passwords")

    # Signed out and in again: the 2FA pop-up asks for a code (a recovery code here).
    page.get_by_role("button", name="Log out").click()
    sign_in(page, address)
    dialog = page.get_by_role("dialog", name="Two-factor authentication")
    expect(dialog).to_be_visible()
    assert_fits_width(page)
    shot(page, "pop-up")
    dialog.get_by_label("Challenge").fill(first_code)
    dialog.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name=address)).to_be_visible()
