"""Domains → a domain → DNS records in a real browser (SPEC §15), on a laptop and on a phone:
every record with Copy (the clipboard then holds exactly the record's value), Rotate DKIM key
and Remove old key. Every page is photographed and none scrolls sideways."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import assert_fits_width, log_in_admin, open_section

pytestmark = pytest.mark.e2e


def add_domain(page: Page, name: str) -> None:
    open_section(page, "Domains")
    page.get_by_role("link", name="Add Domain").click()
    page.get_by_label("Domain name").fill(name)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Added the domain {name}.")).to_be_visible()


def record_row(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_text(name, exact=True))


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_dns_records_with_copy_and_the_dkim_keys_rotation(new_page, shot, device: str) -> None:
    page = new_page(phone=device == "phone")
    domain = f"dns-{device}.example"
    log_in_admin(page)
    add_domain(page, domain)
    page.get_by_role("link", name=domain, exact=True).click()
    page.get_by_role("link", name="DNS records").click()
    expect(page.get_by_role("heading", name="DNS records", level=1)).to_be_visible()
    expect(record_row(page, f"_dmarc.{domain}")).to_be_visible()
    dkim = page.get_by_role("row").filter(has_text="._domainkey.")
    expect(dkim).to_have_count(1)
    assert_fits_width(page)
    shot(page, "dns-records")

    # Copy puts the value itself on the clipboard, spaces and all.
    mx = record_row(page, domain).filter(has_text="10 mail.example.net")
    mx.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("status").filter(has_text="Copied the value of the MX")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "10 mail.example.net"
    dkim.get_by_role("button", name="Copy").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("v=DKIM1; k=rsa; p=MII") and len(copied) > 380
    assert copied == dkim.locator("code").last.inner_text()

    # Rotate: a new selector signs, the old one stays listed until Remove old key.
    page.get_by_role("button", name="Rotate DKIM key").click()
    expect(page.get_by_text("is signed with it from now on")).to_be_visible()
    expect(dkim).to_have_count(2)
    expect(page.get_by_text("Old key still published")).to_be_visible()
    assert_fits_width(page)
    shot(page, "rotated")
    page.get_by_role("button", name="Remove old key").click()
    expect(page.get_by_text("Removed the old DKIM key")).to_be_visible()
    expect(dkim).to_have_count(1)
    expect(page.get_by_role("button", name="Remove old key")).to_have_count(0)
    assert_fits_width(page)
    shot(page, "old-key-removed")
