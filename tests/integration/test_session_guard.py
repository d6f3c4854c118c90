"""SPEC §2, §3: a logged-in web session obeys its account's rules on every request: the
allowed IPs, Active, and Admin Panel access. When one no longer holds, the session ends.
"""

import pytest
from django.contrib.sessions.models import Session

from adminpanel.accounts.models import Account
from adminpanel.subadmins import services as subadmins
from tests.integration.panel import (
    events,
    is_logged_in,
    log_in_admin,
    make_subadmin,
    signed_in,
    text,
)

pytestmark = pytest.mark.django_db

INSIDE, OUTSIDE = "10.1.2.3", "192.0.2.50"


@pytest.fixture
def bob(admin) -> Account:
    """A Sub-Admin allowed from 10.0.0.0/8 and one IPv6 network."""
    return make_subadmin(admin, "bob", allowed_ips="10.0.0.0/8\n2001:db8:1::/48")


def update(admin: Account, account: Account, **changes) -> None:
    subadmins.update_subadmin(admin, account, **changes)


def test_a_session_from_an_allowed_ip_stays_logged_in(bob):
    client = signed_in("bob", ip=INSIDE)
    assert is_logged_in(client, REMOTE_ADDR="10.200.0.1")  # another address in the range


def test_a_request_from_outside_the_allowed_ips_ends_the_session(bob):
    client = signed_in("bob", ip=INSIDE)
    response = client.get("/", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 302 and response.url.startswith("/login")
    # Ended, not paused: back inside the range it is still logged out.
    assert not is_logged_in(client, REMOTE_ADDR=INSIDE)


def test_a_session_ended_by_ip_is_logged_with_the_address(bob):
    client = signed_in("bob", ip=INSIDE)
    client.get("/", REMOTE_ADDR=OUTSIDE)
    (event,) = events("web_session_ended")
    assert event.actor == bob and event.ip == OUTSIDE
    assert event.details == {"reason": "ip_not_allowed"}


def test_the_session_row_is_removed_on_the_server(bob):
    client = signed_in("bob", ip=INSIDE)
    assert Session.objects.count() == 1
    client.get("/domains", REMOTE_ADDR=OUTSIDE)
    assert Session.objects.count() == 0


def test_ipv6_ranges_are_checked_on_every_request_too(bob):
    client = signed_in("bob", ip="2001:db8:1::7")
    assert is_logged_in(client, REMOTE_ADDR="2001:db8:1:ffff::1")
    assert not is_logged_in(client, REMOTE_ADDR="2001:db8:2::1")


def test_narrowing_the_allowed_ips_ends_a_session_now_outside_them(admin, bob):
    client = signed_in("bob", ip=INSIDE)
    update(admin, bob, allowed_ips="10.9.0.0/16")
    assert not is_logged_in(client, REMOTE_ADDR=INSIDE)


def test_deactivating_a_sub_admin_ends_its_session(admin, bob):
    client = signed_in("bob", ip=INSIDE)
    update(admin, bob, active=False)
    response = client.get("/", REMOTE_ADDR=INSIDE)
    assert response.status_code == 302 and response.url.startswith("/login")


def test_a_deactivated_session_does_not_come_back_when_reactivated(admin, bob):
    client = signed_in("bob", ip=INSIDE)
    update(admin, bob, active=False)
    update(admin, bob, active=True)
    assert not is_logged_in(client, REMOTE_ADDR=INSIDE)


def test_deactivating_one_sub_admin_keeps_the_others_logged_in(admin, bob):
    make_subadmin(admin, "carol")
    carol = signed_in("carol")
    signed_in("bob", ip=INSIDE)
    update(admin, bob, active=False)
    assert is_logged_in(carol)


def test_removing_admin_panel_access_ends_the_session_for_good(admin, bob):
    client = signed_in("bob", ip=INSIDE)
    update(admin, bob, web_access=False, api_access=True)
    update(admin, bob, web_access=True)
    assert not is_logged_in(client, REMOTE_ADDR=INSIDE)


def test_removing_admin_panel_access_ends_the_session_and_is_logged(admin, bob):
    client = signed_in("bob", ip=INSIDE)
    update(admin, bob, web_access=False, api_access=True)
    assert not is_logged_in(client, REMOTE_ADDR=INSIDE)
    (event,) = events("subadmin_updated")
    assert sorted(event.details["changed"]) == ["api_access", "web_access"]


def test_a_new_password_ends_the_sub_admins_other_sessions(admin, bob):
    client = signed_in("bob", ip=INSIDE)
    update(admin, bob, password="Brand-New-Lantern-Key-71")
    assert not is_logged_in(client, REMOTE_ADDR=INSIDE)


def test_deleting_a_sub_admin_ends_its_session(admin, bob):
    client = signed_in("bob", ip=INSIDE)
    subadmins.delete_subadmin(admin, bob)
    assert not is_logged_in(client, REMOTE_ADDR=INSIDE)


def test_other_changes_keep_the_session(admin, bob):
    client = signed_in("bob", ip=INSIDE)
    update(admin, bob, levels={"domains": 1}, allowed_ips="10.0.0.0/8\n192.0.2.0/24")
    assert is_logged_in(client, REMOTE_ADDR=INSIDE)


def test_the_admins_own_allowed_ips_are_checked_on_every_request(admin):
    admin.allowed_ips = ["127.0.0.1"]
    admin.save()
    client = log_in_admin()
    assert is_logged_in(client)
    assert not is_logged_in(client, REMOTE_ADDR=OUTSIDE)


def test_a_session_without_its_login_time_is_ended(bob, client):
    client.force_login(bob)  # a session the login page did not make
    assert not is_logged_in(client, REMOTE_ADDR=INSIDE)


def test_the_login_page_says_why_the_session_ended(bob):
    client = signed_in("bob", ip=INSIDE)
    response = client.get("/", REMOTE_ADDR=OUTSIDE, follow=True)
    assert "this account may not be used from your IP address" in text(response)
