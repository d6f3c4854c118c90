"""Confirm access, Security → Sessions and the 2FA policy in a real browser (SPEC §12).

Each step is photographed on a laptop and a phone.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    E2EAccount,
    LiveServer,
    NewPage,
    Shot,
    log_in,
)
from tests.e2e.pages import eleven_minutes_later

pytestmark = pytest.mark.e2e

# Runs in `adminpanel manage shell`: the session's last authentication moves 11 minutes back,
# as if the person had stayed on the panel that long (the server's clock is the real one).


def security(page: Page, entry: str) -> None:
    """Menu → Security → entry."""
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_text("Security", exact=True).click()
    menu.get_by_role("link", name=entry, exact=True).click()


def signed_in(new_page: NewPage, account: E2EAccount, *, phone: bool = False) -> Page:
    page = new_page(phone=phone)
    log_in(page, account.username, account.password)
    expect(page.get_by_role("heading", name="Security overview")).to_be_visible()
    return page


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_changing_the_password_later_asks_to_confirm_access(
    server: LiveServer, new_page: NewPage, shot: Shot, device: str
):
    account = server.create_account(f"confirm-{device}")
    page = signed_in(new_page, account, phone=device == "phone")
    eleven_minutes_later(server, page)
    security(page, "Password")
    expect(page).to_have_title("Confirm access · Admin Panel")
    expect(page.get_by_role("heading", name="Confirm access", level=1)).to_be_visible()
    expect(page.get_by_label("Password")).to_be_focused()
    shot(page, "confirm-access")

    page.get_by_label("Password").fill("not-my-password-at-all")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Wrong password.").first).to_be_visible()
    shot(page, "wrong-password")

    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    shot(page, "password-page")


def test_the_sessions_page_signs_out_the_other_sessions(
    server: LiveServer, new_page: NewPage, shot: Shot
):
    account = server.create_account("sessions-owner")
    laptop = signed_in(new_page, account)
    phone = signed_in(new_page, account, phone=True)

    security(laptop, "Sessions")
    expect(laptop.get_by_role("heading", name="Sessions", level=1)).to_be_visible()
    rows = laptop.get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two sessions
    expect(laptop.get_by_text("This session", exact=True)).to_have_count(1)
    shot(laptop, "two-sessions")
    security(phone, "Sessions")
    expect(phone.get_by_text("This session", exact=True)).to_be_visible()
    shot(phone, "two-sessions-phone")

    laptop.get_by_role("button", name="Sign out all other sessions").click()
    expect(laptop.get_by_text("Signed out 1 other session.")).to_be_visible()
    expect(laptop.get_by_role("row")).to_have_count(2)
    shot(laptop, "one-session-left")

    phone.reload()
    expect(phone.get_by_role("heading", name="Log in")).to_be_visible()
    shot(phone, "phone-signed-out")


def _set_policy(page: Page, required: bool) -> None:
    security(page, "Policy")
    page.get_by_label("Require 2FA for Sub-Admins").set_checked(required)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The policy was saved.")).to_be_visible()


def test_a_sub_admin_required_to_use_2fa_reaches_only_security_2fa(
    server: LiveServer, new_page: NewPage, shot: Shot
):
    gated = server.create_account("policy-gated", level=1)
    admin = new_page()
    log_in(admin, ADMIN_USERNAME, ADMIN_PASSWORD)
    _set_policy(admin, True)
    try:
        shot(admin, "policy")
        admin.goto("/")
        expect(admin.get_by_text("Sub-Admins who must still enable 2FA")).to_be_visible()
        shot(admin, "overview-not-compliant")

        for phone in (False, True):
            page = new_page(phone=phone)
            log_in(page, gated.username, gated.password)
            expect(page).to_have_url(f"{server.url}/security/2fa")
            message = "Your Admin requires two-factor authentication for this account."
            expect(page.get_by_text(message)).to_be_visible()
            page.goto("/domains")
            expect(page).to_have_url(f"{server.url}/security/2fa")
            shot(page, "gated-phone" if phone else "gated")
    finally:
        _set_policy(admin, False)
    page.goto("/domains")
    expect(page.get_by_role("heading", name="Domains", level=1)).to_be_visible()
