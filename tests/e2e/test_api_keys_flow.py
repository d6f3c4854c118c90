"""API keys in a real browser (SPEC §17): the Admin adds an API Sub-Admin, creates a key for it
under Security → API keys, sees the key once, a script uses it, the Logs name it, and Revoke
ends it at the next request. Laptop and phone screenshots of each page."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.live import LiveServer, NewPage, Shot
from tests.e2e.pages import assert_fits_width, log_in_admin, menu, open_section

pytestmark = pytest.mark.e2e

ROBOT = "e2e-keys-robot"
ROBOT_PASSWORD = "e2e-Keys-Robot-Granite-Willow-61"


def security(page: Page, entry: str) -> None:
    """Menu → Security → entry."""
    menu(page).get_by_text("Security", exact=True).click()
    menu(page).get_by_role("link", name=entry, exact=True).click()


def add_api_subadmin(page: Page) -> None:
    """Sub-Admins → Add Sub-Admin: API access only, from this machine, Domains: Edit."""
    open_section(page, "Sub-Admins")
    page.get_by_role("link", name="Add Sub-Admin").click()
    page.get_by_label("Username").fill(ROBOT)
    page.get_by_label("Password").fill(ROBOT_PASSWORD)
    access = page.get_by_role("group", name="Access")
    access.get_by_label("Admin Panel").set_checked(False)
    access.get_by_label("API", exact=True).set_checked(True)
    page.get_by_label("Allowed IPs").fill("127.0.0.1\n::1")
    page.get_by_label("Domains", exact=True).select_option(label="Edit")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the Sub-Admin {ROBOT}.")).to_be_visible()


def create_key(page: Page, name: str, *, allowed_ips: str = "", expires: str = "") -> str:
    """Security → API keys → Create API key; returns the key the page shows once."""
    page.goto("/security/api-keys")
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    page.get_by_role("link", name="Create API key").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("API Sub-Admin").select_option(label=ROBOT)
    page.get_by_label("Allowed IPs").fill(allowed_ips)
    if expires:
        page.get_by_label("Expires").fill(expires)
    page.get_by_role("button", name="Create API key").click()
    expect(page.get_by_role("heading", name="Your new API key")).to_be_visible()
    return page.locator("#api-key").inner_text()


def api(server: LiveServer, key: str, method: str = "GET", path: str = "/me", **kwargs):
    """What an integration does with the key."""
    return requests.request(
        method,
        f"{server.url}/api/v1{path}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        **kwargs,
    )


def test_create_a_key_see_it_once_use_it_and_revoke_it(
    new_page: NewPage, server: LiveServer, shot: Shot
) -> None:
    admin = new_page()
    log_in_admin(admin)
    add_api_subadmin(admin)

    security(admin, "API keys")
    expect(admin.get_by_text("No API keys yet.")).to_be_visible()
    shot(admin, "empty-list")

    admin.get_by_role("link", name="Create API key").click()
    expect(admin.get_by_role("heading", name="Create API key", level=1)).to_be_visible()
    admin.get_by_label("Name").fill("Billing")
    admin.get_by_label("API Sub-Admin").select_option(label=ROBOT)
    admin.get_by_label("Allowed IPs").fill("127.0.0.1")
    next_year = (datetime.now(UTC) + timedelta(days=365)).date()
    admin.get_by_label("Expires").fill(next_year.isoformat())
    shot(admin, "create-form")
    admin.get_by_role("button", name="Create API key").click()

    # Shown once, with Copy.
    expect(admin.get_by_text("Copy it now: it is shown only this once.")).to_be_visible()
    key = admin.locator("#api-key").inner_text()
    assert key.startswith("apk_") and len(key) == 47
    admin.get_by_role("button", name="Copy key").click()
    expect(admin.get_by_text("Key copied.")).to_be_visible()
    assert admin.evaluate("navigator.clipboard.readText()") == key
    assert_fits_width(admin)
    shot(admin, "shown-once")

    # A script uses it: it acts as the API Sub-Admin.
    me = api(server, key).json()
    assert me["username"] == ROBOT and me["api_key"]["name"] == "Billing"
    made = api(server, key, "POST", "/domains", json={"name": "made-with-a-key.example"})
    assert made.status_code == 201, made.text

    # Done: the list has it (never the key again), with its last use.
    admin.get_by_role("link", name="Done").click()
    row = admin.get_by_role("row").filter(has_text="Billing")
    expect(row).to_contain_text(ROBOT)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("from 127.0.0.1")
    expect(row).to_contain_text(f"{(next_year + timedelta(days=1)).isoformat()} 00:00")
    assert key not in admin.content()
    shot(admin, "list-with-key")

    # The Logs name the key beside the change it made.
    open_section(admin, "Logs")
    entry = admin.get_by_role("row").filter(has_text="made-with-a-key.example")
    expect(entry).to_contain_text("Billing")
    shot(admin, "logs-name-the-key")

    # Revoke, after a question; the next request with the key is refused.
    security(admin, "API keys")
    admin.get_by_role("link", name="Revoke Billing").click()
    expect(admin.get_by_role("heading", name="Revoke API key “Billing”?")).to_be_visible()
    shot(admin, "revoke-question")
    admin.get_by_role("button", name="Revoke").click()
    expect(admin.get_by_text("The API key “Billing” was revoked")).to_be_visible()
    expect(admin.get_by_role("row").filter(has_text="Billing")).to_contain_text("Revoked")
    refused = api(server, key)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    shot(admin, "revoked")


def test_the_api_keys_pages_on_a_phone(new_page: NewPage, server: LiveServer, shot: Shot) -> None:
    phone = new_page(phone=True)
    log_in_admin(phone)
    phone.goto("/subadmins")
    if not phone.get_by_role("link", name=ROBOT, exact=True).count():
        add_api_subadmin(phone)
    phone.goto("/security/api-keys/new")
    expect(phone.get_by_role("heading", name="Create API key", level=1)).to_be_visible()
    assert_fits_width(phone)
    shot(phone, "create-form")
    key = create_key(phone, "Provisioning (phone)", allowed_ips="127.0.0.1\n::1")
    assert api(server, key).status_code == 200
    assert_fits_width(phone)
    shot(phone, "shown-once")
    phone.get_by_role("link", name="Done").click()
    expect(phone.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    assert_fits_width(phone)
    shot(phone, "list")
