"""A mailbox's life in a real browser (SPEC §16), on a laptop and on a phone: rename keeping
the old address, Sign-in allowed, Forwarding and Automatic reply on the mailbox's page; delete
with its confirmation, Deleted mailboxes and Restore; an alias domain; a CSV import's preview.
Every page is photographed and none scrolls sideways."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live import NewPage, Shot
from tests.e2e.pages import assert_fits_width, log_in_admin, open_section

pytestmark = pytest.mark.e2e

PASSWORD = "Mailbox-Cobalt-Harbor-27"


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_a_mailboxs_life_on_its_pages(new_page: NewPage, shot: Shot, device: str) -> None:
    page = new_page(phone=device == "phone")
    domain = f"life-{device}.example"
    log_in_admin(page)
    add_domain(page, domain)
    add_mailbox(page, f"anna@{domain}")

    # Rename, keeping the old address as an alias; sign-in off for a leaving person.
    page.get_by_role("link", name=f"anna@{domain}", exact=True).click()
    expect(page.get_by_label("Address", exact=True)).to_have_value(f"anna@{domain}")
    expect(page.get_by_role("heading", name="Forwarding")).to_be_visible()
    expect(page.get_by_role("heading", name="Automatic reply")).to_be_visible()
    assert_fits_width(page)
    shot(page, "mailbox-page")
    page.get_by_label("Address", exact=True).fill(f"anna.berg@{domain}")
    page.get_by_label("Keep the old address as an alias").check()
    page.get_by_label("Sign-in allowed").uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(f"Saved the mailbox anna.berg@{domain}.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=f"anna.berg@{domain}")
    expect(row).to_contain_text("Sign-in off")
    assert_fits_width(page)
    shot(page, "renamed")

    # Delete: the confirmation names it and says its mail is kept; then Restore.
    row.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name=f"Delete mailbox anna.berg@{domain}?")).to_be_visible()
    expect(page.get_by_text("Its mail is kept for 30 days")).to_be_visible()
    assert_fits_width(page)
    shot(page, "confirm-delete")
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Deleted mailboxes can restore it.")).to_be_visible()
    page.get_by_role("link", name="Deleted mailboxes").click()
    expect(page.get_by_role("heading", name="Deleted mailboxes", level=1)).to_be_visible()
    deleted_row = page.get_by_role("row").filter(has_text=f"anna.berg@{domain}")
    expect(deleted_row.get_by_role("link", name="Purge now")).to_be_visible()
    assert_fits_width(page)
    shot(page, "deleted-mailboxes")
    deleted_row.get_by_role("button", name="Restore").click()
    expect(
        page.get_by_text(f"Restored the mailbox anna.berg@{domain} with its mail.")
    ).to_be_visible()

    # An alias domain on the Domains page.
    open_section(page, "Domains")
    page.get_by_role("link", name="Add alias domain").click()
    page.get_by_label("Alias domain").fill(f"alias-{domain}")
    page.get_by_label("Target domain").select_option(domain)
    assert_fits_width(page)
    shot(page, "add-alias-domain")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the alias domain alias-{domain}")).to_be_visible()
    assert_fits_width(page)
    shot(page, "domains-with-alias-domain")

    # Import CSV: a preview that shows each line's error by its line number.
    open_section(page, "Users")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("Or paste the CSV").fill(
        "address,display_name,password,quota_mb\n"
        f"bob@{domain},Bob,,\n"
        f"anna.berg@{domain},Anna again,,\n"
        f"carl@nowhere.example,Carl,,\n"
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text("Line 3")
    expect(page.get_by_role("alert")).to_contain_text("Line 4")
    assert_fits_width(page)
    shot(page, "import-preview-errors")


def add_domain(page: Page, name: str) -> None:
    open_section(page, "Domains")
    page.get_by_role("link", name="Add Domain").click()
    page.get_by_label("Domain name").fill(name)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the domain {name}.")).to_be_visible()


def add_mailbox(page: Page, address: str) -> None:
    open_section(page, "Users")
    page.get_by_role("link", name="Add Mailbox").click()
    page.get_by_label("Address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the mailbox {address}.")).to_be_visible()
