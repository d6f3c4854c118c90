"""The Sub-Admin form's Domains scope in a real browser, by keyboard, among a hundred domains
(SPEC §17): the Admin narrows the list by typing, ticks a domain with the space bar and saves;
the Sub-Admin then sees that domain alone. The domains' names sort after the other browser
tests' domains, whose first page of 25 they share on the one live panel."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live import LiveServer, NewPage, Shot, log_in
from tests.e2e.pages import add_domains, log_in_admin, open_section

pytestmark = pytest.mark.e2e

SUB_PASSWORD = "e2e-Sub-Admin-Harbor-Thistle-27"
DOMAINS = [f"zz-scope-{n:03}.example" for n in range(100)]


def test_the_admin_limits_a_sub_admin_to_one_domain_by_keyboard(
    new_page: NewPage, server: LiveServer, shot: Shot
) -> None:
    add_domains(server, DOMAINS)
    admin = new_page()
    log_in_admin(admin)
    open_section(admin, "Sub-Admins")
    admin.get_by_role("link", name="Add Sub-Admin").click()
    admin.get_by_label("Username").fill("scope-desk")
    admin.get_by_label("Password").fill(SUB_PASSWORD)
    admin.get_by_label("Domains", exact=True).select_option(label="View")

    scope = admin.get_by_role("group", name="Domains scope")
    expect(scope.get_by_label("All domains")).to_be_checked()
    picker = scope.get_by_role("group", name="Domains in scope")
    # (Other browser tests on this live panel may have added domains of their own.)
    ours = picker.get_by_role("checkbox", name=re.compile(r"^zz-scope-\d{3}\.example$"))
    expect(ours).to_have_count(len(DOMAINS))

    # By keyboard alone: type into the filter, Tab to the one box left, Space ticks it.
    admin.get_by_label("Filter domains").focus()
    admin.keyboard.type("zz-scope-042")
    visible = picker.locator("[data-scope-name]:visible")
    expect(visible).to_have_count(1)
    admin.keyboard.press("Tab")
    expect(admin.get_by_label("zz-scope-042.example")).to_be_focused()
    admin.keyboard.press("Space")
    expect(admin.get_by_label("zz-scope-042.example")).to_be_checked()
    expect(scope.get_by_label("Only the domains chosen below")).to_be_checked()
    expect(scope.get_by_text("(1 chosen)")).to_be_visible()
    shot(admin, "domains-scope-picked")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Added the Sub-Admin scope-desk.")).to_be_visible()
    # The edit page lists the chosen domain first, ticked.
    expect(admin.locator("[data-scope-name] input").first).to_have_value("zz-scope-042.example")
    expect(admin.locator("[data-scope-name] input").first).to_be_checked()

    desk = new_page()
    log_in(desk, "scope-desk", SUB_PASSWORD)
    open_section(desk, "Domains")
    expect(desk.get_by_role("link", name="zz-scope-042.example")).to_be_visible()
    expect(desk.get_by_role("link", name="zz-scope-041.example")).to_have_count(0)
    expect(desk.get_by_text("1 domain", exact=True)).to_be_visible()
    check_page_has_no_add(desk)


def check_page_has_no_add(page: Page) -> None:
    expect(page.get_by_role("link", name="Add Domain")).to_have_count(0)
    expect(page.get_by_role("link", name="Add alias domain")).to_have_count(0)
