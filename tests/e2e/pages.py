"""What a person does on the panel's pages, shared by the browser tests."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN_PASSWORD, ADMIN_USERNAME, log_in

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
