"""Sub-Admins, section permissions and the data pages in a real browser (SPEC §2, §3, §7, §8).

The Admin creates an API-only and a View-only Sub-Admin by the labels SPEC.md gives; the
View-only one sees Domains but cannot add one; the API-only one is refused at the web login;
the Admin resets a Sub-Admin's 2FA. Every data page is photographed on a laptop and a phone.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live import ADMIN_USERNAME, LiveServer, NewPage, Shot, log_in
from tests.e2e.pages import assert_fits_width, log_in_admin, menu, open_section

pytestmark = pytest.mark.e2e

SUB_PASSWORD = "e2e-Sub-Admin-Granite-Willow-61"
API_ONLY = "This account can only be used with the API."
WARN_ANY_IP = "This account has API access from any IP address."


# --- what a person does ----------------------------------------------------------------------


def add_subadmin(
    page: Page,
    username: str,
    *,
    admin_panel: bool = True,
    api: bool = False,
    levels: dict[str, str] | None = None,
    allowed_ips: str = "",
) -> None:
    """Sub-Admins → Add Sub-Admin, fill the form by its labels, Save."""
    open_section(page, "Sub-Admins")
    page.get_by_role("link", name="Add Sub-Admin").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(SUB_PASSWORD)
    expect(page.get_by_label("Active")).to_be_checked()
    access = page.get_by_role("group", name="Access")
    access.get_by_label("Admin Panel").set_checked(admin_panel)
    access.get_by_label("API", exact=True).set_checked(api)
    page.get_by_label("Allowed IPs").fill(allowed_ips)
    for section, level in (levels or {}).items():
        page.get_by_label(section, exact=True).select_option(label=level)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the Sub-Admin {username}.")).to_be_visible()


# --- the flows -------------------------------------------------------------------------------


def test_the_admin_creates_an_api_only_and_a_view_only_sub_admin(
    new_page: NewPage, server: LiveServer, shot: Shot
) -> None:
    admin = new_page()
    log_in_admin(admin)
    open_section(admin, "Sub-Admins")
    shot(admin, "subadmins-list")

    # An API Sub-Admin: API access only, no allowed IPs yet → the warning.
    add_subadmin(admin, "flow-robot", admin_panel=False, api=True)
    expect(admin.get_by_text(WARN_ANY_IP)).to_be_visible()
    expect(admin.get_by_role("heading", name="Sub-Admin flow-robot")).to_be_visible()
    shot(admin, "api-only-saved-with-warning")

    # Its IPs restricted (this machine among them, so that the web login below is refused for
    # being API-only: from outside its IPs it would read as a wrong password): the warning goes.
    admin.get_by_label("Allowed IPs").fill("192.0.2.0/24\n2001:DB8::1\n127.0.0.1")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Saved the Sub-Admin flow-robot.")).to_be_visible()
    expect(admin.get_by_text(WARN_ANY_IP)).to_have_count(0)
    expect(admin.get_by_label("Allowed IPs")).to_have_value("192.0.2.0/24\n2001:db8::1\n127.0.0.1")

    # A View-only Sub-Admin for Domains.
    add_subadmin(admin, "flow-viewer", levels={"Domains": "View"})
    expect(admin.get_by_label("Domains", exact=True)).to_have_value("1")
    open_section(admin, "Sub-Admins")
    rows = admin.get_by_role("row")
    expect(rows.filter(has_text="flow-robot")).to_contain_text("API")
    expect(rows.filter(has_text="flow-viewer")).to_contain_text("View")
    shot(admin, "subadmins-list-filled")

    # The Admin adds a domain for the viewer to see.
    open_section(admin, "Domains")
    admin.get_by_role("link", name="Add Domain").click()
    admin.get_by_label("Domain name").fill("bücher.example")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Added the domain bücher.example.")).to_be_visible()

    # The View-only Sub-Admin: Domains in its menu, nothing else; no way to add.
    viewer = new_page()
    log_in(viewer, "flow-viewer", SUB_PASSWORD)
    expect(viewer.get_by_role("heading", name="Security overview")).to_be_visible()
    for entry in ("Users", "Aliases", "Logs", "Sub-Admins"):
        expect(menu(viewer).get_by_role("link", name=entry, exact=True)).to_have_count(0)
    open_section(viewer, "Domains")
    expect(viewer.get_by_role("link", name="bücher.example")).to_be_visible()
    expect(viewer.get_by_role("link", name="Add Domain")).to_have_count(0)
    expect(viewer.get_by_role("link", name=re.compile("^Delete"))).to_have_count(0)
    shot(viewer, "viewer-domains")
    viewer.get_by_role("link", name="bücher.example").click()
    expect(viewer.get_by_label("Catch-all address")).to_be_disabled()
    expect(viewer.get_by_role("button", name="Save")).to_have_count(0)
    shot(viewer, "viewer-domain-read-only")
    response = viewer.goto("/domains/add")
    assert response is not None and response.status == 403
    expect(viewer.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(viewer, "viewer-add-refused")

    # The API-only Sub-Admin is refused at the web login, from one of its allowed addresses
    # (this browser's 127.0.0.1) with the right password: "only with the API". From outside its
    # IPs the answer would tell nothing about the account (SPEC §3, §6): a wrong password's.
    robot = new_page()
    log_in(robot, "flow-robot", SUB_PASSWORD)
    expect(robot.get_by_text(API_ONLY)).to_be_visible()
    expect(robot.get_by_role("heading", name="Log in")).to_be_visible()
    shot(robot, "api-only-refused")
    assert "Traceback" not in server.log()


def test_the_admin_resets_a_sub_admins_2fa(
    new_page: NewPage, server: LiveServer, shot: Shot
) -> None:
    lost = server.create_account("flow-lost-phone", two_factor=True)
    # Before: the password alone is not enough.
    user = new_page()
    log_in(user, lost.username, lost.password)
    expect(user.get_by_role("dialog", name="Two-factor authentication")).to_be_visible()

    admin = new_page()
    log_in_admin(admin)
    open_section(admin, "Sub-Admins")
    admin.get_by_role("link", name=lost.username).click()
    expect(admin.get_by_text(f"2FA is enabled for {lost.username}.")).to_be_visible()
    shot(admin, "subadmin-with-2fa")
    admin.get_by_role("link", name="Reset 2FA").click()
    expect(admin.get_by_role("heading", name=f"Reset 2FA of {lost.username}?")).to_be_visible()
    shot(admin, "confirm-reset")
    admin.get_by_role("button", name="Reset 2FA").click()
    expect(admin.get_by_text(f"2FA of {lost.username} was reset")).to_be_visible()
    expect(admin.get_by_text(f"2FA is not enabled for {lost.username}:")).to_be_visible()
    expect(admin.get_by_role("link", name="Reset 2FA")).to_have_count(0)
    shot(admin, "2fa-reset")

    # After: the password logs in, and the home page asks to set 2FA up again.
    user = new_page()
    log_in(user, lost.username, lost.password)
    expect(user.get_by_role("heading", name="Security overview")).to_be_visible()
    expect(user.get_by_role("link", name="Enable 2FA")).to_be_visible()
    shot(user, "logged-in-with-password")

    # The log shows the reset, by the Admin.
    open_section(admin, "Logs")
    admin.get_by_label("Event").select_option("2fa_reset")
    admin.get_by_role("button", name="Filter").click()
    reset_row = admin.get_by_role("row").filter(has_text="2fa_reset").first
    expect(reset_row).to_contain_text(ADMIN_USERNAME)
    expect(reset_row).to_contain_text(lost.username)


def test_every_data_page_on_a_laptop(new_page: NewPage, server: LiveServer, shot: Shot) -> None:
    walk_through_every_data_page(new_page(), "laptop", shot, server)


def test_every_data_page_on_a_phone(new_page: NewPage, server: LiveServer, shot: Shot) -> None:
    walk_through_every_data_page(new_page(phone=True), "phone", shot, server)


def walk_through_every_data_page(page: Page, device: str, shot: Shot, server: LiveServer) -> None:
    """Domains, Users, Aliases, their forms, a delete confirmation, Logs, Sub-Admins and the
    home page: each photographed, none scrolling sideways, messages next to their fields."""
    # One wrong password first, so the overview and the chart have a failure to show.
    log_in(page, ADMIN_USERNAME, "not-the-admin-password")
    expect(page.get_by_text("Invalid username or password.")).to_be_visible()
    log_in_admin(page)
    failures = page.get_by_role("region", name="Recent failed logins")
    expect(
        failures.get_by_role("row").filter(has_text="Sign-in refused: wrong password").first
    ).to_be_visible()
    assert_fits_width(page)
    shot(page, "home")
    tag = f"looks-{device}"

    # Domains: a refused name gets its message by the field, then a good one.
    open_section(page, "Domains")
    page.get_by_role("link", name="Add Domain").click()
    page.get_by_label("Domain name").fill("not a domain")
    page.get_by_role("button", name="Save").click()
    name = page.get_by_label("Domain name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description(re.compile("is not a valid domain name"))
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(name).to_be_focused()  # the keyboard lands on the first field to correct
    assert_fits_width(page)
    shot(page, "domain-add-error")
    # The summary's link takes the keyboard to the field.
    page.get_by_role("alert").get_by_role("link").first.click()
    expect(name).to_be_focused()
    name.fill(f"{tag}.example")
    page.get_by_label("Catch-all address").fill(f"postmaster@{tag}.example")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the domain {tag}.example.")).to_be_visible()
    assert_fits_width(page)
    shot(page, "domains-list")

    # Users: a quota of 0 is refused by its field, then a mailbox is added.
    open_section(page, "Users")
    page.get_by_role("link", name="Add Mailbox").click()
    page.get_by_label("Address").fill(f"anna@{tag}.example")
    page.get_by_label("Display name").fill("Anna Müller")
    page.get_by_label("Password").fill("Mailbox-Cobalt-Harbor-27")
    page.get_by_label("Quota (MB)").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Quota (MB)")).to_have_accessible_description(
        re.compile("greater than or equal to 1")
    )
    assert_fits_width(page)
    shot(page, "user-add-error")
    page.get_by_label("Quota (MB)").fill("2048")
    page.get_by_label("Password").fill("Mailbox-Cobalt-Harbor-27")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the mailbox anna@{tag}.example.")).to_be_visible()
    assert_fits_width(page)
    shot(page, "users-list")

    # Aliases: shadowing the mailbox is refused, another address is fine.
    open_section(page, "Aliases")
    page.get_by_role("link", name="Add Alias").click()
    page.get_by_label("Address").fill(f"anna@{tag}.example")
    page.get_by_label("Destinations").fill(f"anna@{tag}.example\nboss@elsewhere.example")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Address")).to_have_accessible_description(
        re.compile("is already a mailbox")
    )
    shot(page, "alias-add-error")
    page.get_by_label("Address").fill(f"team@{tag}.example")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the alias team@{tag}.example.")).to_be_visible()
    assert_fits_width(page)
    shot(page, "aliases-list")

    # Deleting the busy domain asks first, and says what it still holds.
    open_section(page, "Domains")
    page.get_by_role("link", name=f"Delete {tag}.example").click()
    expect(page.get_by_text("This domain still has 1 mailbox and 1 alias.")).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert")).to_contain_text("still has 1 mailbox(es)")
    assert_fits_width(page)
    shot(page, "domain-delete-refused")
    page.get_by_label("Also delete its mailboxes and aliases").check()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"Deleted the domain {tag}.example.")).to_be_visible()

    # Logs: the chart is an image with a name; the filters work by label.
    open_section(page, "Logs")
    chart = page.get_by_role("img", name="Failures per hour, last 24 hours")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar.login").first).to_be_visible()
    page.get_by_label("Actor").fill(ADMIN_USERNAME)
    page.get_by_label("Event").select_option("domain_deleted")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("row").filter(has_text=f"{tag}.example").first).to_be_visible()
    assert_fits_width(page)
    shot(page, "logs")

    # Sub-Admins: the list and the form.
    open_section(page, "Sub-Admins")
    assert_fits_width(page)
    shot(page, "subadmins")
    page.get_by_role("link", name="Add Sub-Admin").click()
    page.get_by_label("Username").fill(f"{tag}-sub")
    page.get_by_label("Allowed IPs").fill("10.0.0.300")
    page.get_by_role("button", name="Save").click()
    # Every mistake at once, each by its field: the empty password and the bad address.
    expect(page.get_by_label("Password")).to_have_accessible_description(
        re.compile("This field is required.")
    )
    expect(page.get_by_label("Allowed IPs")).to_have_accessible_description(
        re.compile("is not an IP address or CIDR range")
    )
    assert_fits_width(page)
    shot(page, "subadmin-add-error")
    assert "Traceback" not in server.log()
