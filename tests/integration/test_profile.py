"""SPEC §12 and §2: Security → Profile, with the E-mail for notices and the Admin's Allowed IPs."""

import pytest
from django.test import Client

from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from tests.integration.panel import (
    ADMIN_PASSWORD,
    field_error,
    is_logged_in,
    log_in,
    log_in_admin,
    mailed_links,
    make_subadmin,
    signed_in,
    text,
)

pytestmark = pytest.mark.django_db


def save(client: Client, **data):
    return client.post("/security/profile", data)


def test_the_menu_has_security_with_the_entry_profile(admin):
    page = text(log_in_admin().get("/"))
    assert '<a href="/security/profile">Profile</a>' in page


def test_the_profile_page_has_e_mail_allowed_ips_and_save(admin):
    page = text(log_in_admin().get("/security/profile"))
    assert '<label for="id_email">E-mail</label>' in page
    assert '<label for="id_allowed_ips">Allowed IPs</label>' in page
    assert "Your current IP address is <strong>127.0.0.1</strong>" in page
    assert ">Save</button>" in page


def test_a_new_email_takes_effect_when_its_link_is_opened_and_is_logged(admin):
    client = log_in_admin()
    with mailed_links() as links:
        response = save(client, email="  Owner@Example.COM ", allowed_ips="")
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.email == ""  # not yet
    page = text(client.get("/security/profile"))
    assert "A link was mailed to Owner@example.com." in page
    assert "Waiting for confirmation: <strong>Owner@example.com</strong>" in page
    assert Event.objects.get(event="email_change_requested").details == {
        "email": "Owner@example.com"
    }
    assert client.get(links[0]).url == "/security/profile"
    admin.refresh_from_db()
    assert admin.email == "Owner@example.com"
    [event] = Event.objects.filter(event="profile_updated")
    assert event.details == {"edits": {"email": {"from": "", "to": "Owner@example.com"}}}
    assert "Your notices now go to Owner@example.com." in text(client.get("/security/profile"))


def link_for(client: Client, address: str) -> str:
    with mailed_links() as links:
        assert save(client, email=address, allowed_ips="").status_code == 302
    return links[0]


def test_a_link_works_once(admin):
    client = log_in_admin()
    link = link_for(client, "owner@example.com")
    client.get(link)
    save(client, email="", allowed_ips="")  # emptied at once
    client.get(link)
    assert "This link does not work (any more)" in text(client.get("/security/profile"))
    admin.refresh_from_db()
    assert admin.email == ""


def test_a_link_expires_after_24_hours(admin, clock):
    client = log_in_admin()
    link = link_for(client, "owner@example.com")
    clock.advance(hours=24, seconds=1)
    client = log_in_admin()  # the session has ended too
    client.get(link)
    assert "This link does not work (any more)" in text(client.get("/security/profile"))
    admin.refresh_from_db()
    assert admin.email == ""


def test_a_link_is_bound_to_the_account_that_asked(admin):
    link = link_for(log_in_admin(), "owner@example.com")
    make_subadmin(admin, "sub")
    other = signed_in("sub")
    other.get(link)
    assert "This link does not work (any more)" in text(other.get("/security/profile"))
    assert Account.objects.get(username="sub").email == ""
    admin.refresh_from_db()
    assert admin.email == ""


def test_a_newer_request_replaces_the_earlier_link(admin):
    client = log_in_admin()
    first = link_for(client, "first@example.com")
    second = link_for(client, "second@example.com")
    client.get(first)
    admin.refresh_from_db()
    assert admin.email == ""
    client.get(second)
    admin.refresh_from_db()
    assert admin.email == "second@example.com"


def test_new_addresses_are_limited_to_3_an_hour(admin, clock):
    client = log_in_admin()
    for n in range(3):
        link_for(client, f"owner{n}@example.com")
    response = save(client, email="owner3@example.com", allowed_ips="")
    assert response.status_code == 400
    assert field_error(response, "email") == (
        "You asked for 3 new addresses in the last hour: try again in 60 minutes."
    )
    assert Event.objects.filter(event="email_change_requested").count() == 3
    clock.advance(hours=1, seconds=1)
    assert save(client, email="owner3@example.com", allowed_ips="").status_code == 302


def test_an_encoded_word_address_is_refused(admin):
    response = save(log_in_admin(), email="=?utf-8?q?=0A?=@example.com", allowed_ips="")
    assert field_error(response, "email") == "Enter an e-mail address such as name@example.com."


def test_a_wrong_email_is_refused_under_its_field_and_nothing_changes(admin):
    response = save(log_in_admin(), email="owner@", allowed_ips="")
    assert response.status_code == 400
    assert field_error(response, "email") == "Enter an e-mail address such as name@example.com."
    admin.refresh_from_db()
    assert admin.email == ""
    assert not Event.objects.filter(event="profile_updated").exists()


def test_the_admin_restricts_its_own_ips(admin):
    response = save(log_in_admin(), email="", allowed_ips="127.0.0.1\n10.0.0.0/8\n2001:db8::/32")
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.allowed_ips == ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]
    assert log_in(Client(REMOTE_ADDR="10.1.2.3"), "admin", ADMIN_PASSWORD).url == "/"
    refused = log_in(Client(REMOTE_ADDR="192.0.2.1"), "admin", ADMIN_PASSWORD)
    assert "Invalid username or password." in text(refused)  # the reason is in the log only
    assert Event.objects.get(event="web_login_refused").details == {"reason": "ip_not_allowed"}


def test_a_list_without_the_current_ip_is_refused_so_the_admin_cannot_lock_itself_out(admin):
    client = log_in_admin()
    response = save(client, email="", allowed_ips="10.0.0.0/8")
    assert response.status_code == 400
    message = field_error(response, "allowed_ips")
    assert message.startswith("Your current IP address 127.0.0.1 is not in this list")
    admin.refresh_from_db()
    assert admin.allowed_ips == []
    assert is_logged_in(client)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("not-an-ip", "'not-an-ip' is not an IP address or CIDR range."),
        ("10.0.0.0/33", "'10.0.0.0/33' is not an IP address or CIDR range."),
        ("fe80::1%eth0", "'fe80::1%eth0' is not an IP address or CIDR range."),
    ],
)
def test_bad_allowed_ips_get_the_same_messages_as_the_subadmin_form(admin, entry, message):
    response = save(log_in_admin(), email="", allowed_ips=f"127.0.0.1\n{entry}")
    assert response.status_code == 400
    assert field_error(response, "allowed_ips") == message
    admin.refresh_from_db()
    assert admin.allowed_ips == []


def test_a_subadmin_sets_its_email_but_not_its_allowed_ips(admin):
    make_subadmin(admin, "sub", allowed_ips="127.0.0.1")
    client = signed_in("sub")
    page = text(client.get("/security/profile"))
    assert 'name="allowed_ips"' not in page
    assert "Your account may log in only from: 127.0.0.1. The Admin sets this list." in page
    with mailed_links() as links:
        assert save(client, email="sub@example.com", allowed_ips="0.0.0.0/0").status_code == 302
    client.get(links[0])
    sub = Account.objects.get(username="sub")
    assert (sub.email, sub.allowed_ips) == ("sub@example.com", ["127.0.0.1"])


def test_the_page_says_when_notices_are_off(admin, settings):
    settings.NOTICES_ENABLED = False
    page = text(log_in_admin().get("/security/profile"))
    assert "E-mail notices are off on this server" in page


def test_the_profile_page_needs_a_login(admin):
    response = Client().get("/security/profile")
    assert response.status_code == 302 and response.url.startswith("/login")
