"""What a person does on the panel's pages, shared by the browser tests."""

import re
import subprocess

from playwright.sync_api import Page, expect

from tests.e2e.live import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    LiveServer,
    _adminpanel_command,
    log_in,
)

WIDER_THAN_SCREEN = """limit => [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > limit + 1)
    .slice(0, 5)
    .map(el => `${el.tagName}.${el.className} ${el.textContent.trim().slice(0, 40)}`)"""


def log_in_admin(page: Page) -> None:
    log_in(page, ADMIN_USERNAME, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Security overview")).to_be_visible()


def menu(page: Page):
    return page.get_by_role("navigation", name="Main")


def open_section(page: Page, name: str) -> None:
    menu(page).get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def assert_fits_width(page: Page) -> None:
    """Nothing scrolls sideways: the page is no wider than the screen."""
    limit = page.viewport_size["width"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= limit, (width, page.evaluate(WIDER_THAN_SCREEN, limit))


ENABLED = "Two-factor authentication is enabled."


def open_two_factor_page(page: Page) -> None:
    """Menu → Security → 2FA."""
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_text("Security", exact=True).click()
    menu.get_by_role("link", name="2FA").click()
    expect(page.get_by_role("heading", name="Two-factor authentication (2FA)")).to_be_visible()


def choose_status(page: Page, status: str) -> None:
    page.get_by_label("Select Status").select_option(status)
    page.get_by_role("button", name="Save").click()


def read_manual_key(page: Page) -> str:
    """The key for manual entry, as shown: groups of four, spaces removed."""
    shown = page.get_by_text(GROUPED_KEY).inner_text().strip()
    assert GROUPED_KEY.fullmatch(shown), shown
    key = shown.replace(" ", "")
    assert len(key) == 32, key  # 160 bits of base32
    return key


def eleven_minutes_later(server: LiveServer, page: Page) -> None:
    [session] = [c["value"] for c in page.context.cookies() if c["name"] == "adminpanel_session"]
    result = subprocess.run(
        [*_adminpanel_command(), "manage", "shell", "-c", _AGE_CONFIRMATION],
        env={**server.env, "E2E_SESSION": session},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


GROUPED_KEY = re.compile(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+")
_AGE_CONFIRMATION = r"""
import os
from adminpanel import clock
from adminpanel.accounts import web_sessions
from adminpanel.sessions import SessionStore

store = SessionStore(os.environ["E2E_SESSION"])
store[web_sessions.CONFIRMED_AT] = clock.now().timestamp() - 11 * 60
store.save()
"""


def add_domains(server: LiveServer, names: list[str]) -> None:
    """Domains added by the Admin through the service (each with its DKIM key)."""
    result = subprocess.run(
        [*_adminpanel_command(), "manage", "shell", "-c", _ADD_DOMAINS],
        env={**server.env, "E2E_DOMAINS": "\n".join(names)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


_ADD_DOMAINS = r"""
import os
from adminpanel.accounts.models import Account
from adminpanel.mail import services
from adminpanel.mail.models import Domain

admin = Account.objects.get(is_owner=True)
for name in os.environ["E2E_DOMAINS"].splitlines():
    if not Domain.objects.filter(name=name).exists():
        services.create_domain(admin, name=name)
"""
