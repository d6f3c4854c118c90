"""SPEC §15, Domains → a domain → **DNS records**: every record with **Copy**; **Rotate DKIM
key** and **Remove old key** for Domains: Edit; a viewer sees the records and no buttons."""

import html
import re

import pytest

from adminpanel.accounts.models import Level
from adminpanel.mail import services as mail
from adminpanel.mail.models import DkimKey, Domain
from tests.integration.panel import events, log_in_admin, make_subadmin, signed_in
from tests.integration.panel import text as page_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mail_host(settings):
    settings.MAIL_HOST = "mail.example.net"


@pytest.fixture
def client(admin):
    return log_in_admin()


@pytest.fixture
def example(admin) -> Domain:
    return mail.create_domain(admin, name="example.com")


def test_the_domain_page_links_to_its_dns_records(client, example):
    assert f'href="/domains/{example.pk}/dns">DNS records<' in page_text(
        client.get(f"/domains/{example.pk}")
    )


def test_every_record_is_shown_with_copy(client, example):
    page = page_text(client.get(f"/domains/{example.pk}/dns"))
    key = DkimKey.objects.get(domain=example)
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]  # after the head
    assert len(rows) == 10  # MX, SPF, DKIM, DMARC, 2 CNAME, 4 SRV
    for row in rows:
        assert re.search(r"<button[^>]*data-copy=\"record-\d+\"[^>]*>Copy<", row), row
    values = [html.unescape(v) for v in re.findall(r'<code id="record-\d+">(.*?)</code>', page)]
    assert "10 mail.example.net" in values
    assert f"v=DKIM1; k=rsa; p={key.public_key}" in values
    assert f"{key.selector}._domainkey.example.com" in page
    assert key.private_key not in page


def test_rotate_then_remove_the_old_key_from_the_page(client, example):
    old = DkimKey.objects.get(domain=example).selector
    page = page_text(client.get(f"/domains/{example.pk}/dns"))
    assert ">Rotate DKIM key<" in page and ">Remove old key<" not in page
    rotated = client.post(f"/domains/{example.pk}/dkim/rotate", follow=True)
    page = page_text(rotated)
    new = DkimKey.objects.filter(domain=example).exclude(selector=old).get().selector
    assert f"New DKIM key {new}" in page
    assert f"{new}._domainkey.example.com" in page and f"{old}._domainkey.example.com" in page
    assert ">Remove old key<" in page
    removed = page_text(client.post(f"/domains/{example.pk}/dkim/remove-old-key", follow=True))
    assert f"Removed the old DKIM key {old}" in removed
    assert f"{old}._domainkey.example.com" not in removed
    assert [e.event for e in events("dkim_key_rotated") + events("dkim_old_key_removed")] == [
        "dkim_key_rotated",
        "dkim_old_key_removed",
    ]


def test_a_viewer_sees_the_records_but_no_buttons_and_cannot_rotate(admin, example):
    make_subadmin(admin, "viewer", web_access=True, levels={"domains": Level.VIEW.value})
    viewer = signed_in("viewer")
    page = page_text(viewer.get(f"/domains/{example.pk}/dns"))
    assert "_domainkey.example.com" in page
    assert "Rotate DKIM key" not in page
    assert viewer.post(f"/domains/{example.pk}/dkim/rotate").status_code == 403
    assert DkimKey.objects.filter(domain=example).count() == 1


def test_an_unknown_domain_is_a_404(client):
    assert client.get("/domains/999999/dns").status_code == 404
    assert client.post("/domains/999999/dkim/rotate").status_code == 404


def test_an_unset_mail_host_is_pointed_out(client, example, settings):
    settings.MAIL_HOST = "localhost"
    assert "ADMINPANEL_MAIL_HOST</code> is not set" in page_text(
        client.get(f"/domains/{example.pk}/dns")
    )
