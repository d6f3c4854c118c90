"""SPEC §9: the home page is the Admin's security overview: who has 2FA, which API accounts
accept any IP address, recent failed logins, and a call to enable 2FA while it is off.
"""

import re

import pytest
from django.test import RequestFactory

from adminpanel import audit
from adminpanel.audit.catalogue import AuditEvent
from tests.integration.panel import (
    ADMIN_PASSWORD,
    log_in_admin,
    make_subadmin,
    signed_in,
    text,
)

pytestmark = pytest.mark.django_db


def section(page: str, heading: str) -> str:
    """The text of the card under an h2."""
    match = re.search(rf"<h2[^>]*>{re.escape(heading)}</h2>(.*?)</section>", page, re.S)
    assert match, f"no section {heading!r}"
    return match.group(1)


def row(page: str, username: str) -> str:
    match = re.search(rf"<tr>\s*<td[^>]*>(?:<a [^>]*>)?{username}\b.*?</tr>", page, re.S)
    assert match, f"no row for {username}"
    return match.group(0)


def test_an_admin_without_2fa_is_asked_to_enable_it(admin):
    page = text(log_in_admin().get("/"))
    assert "Protect your account with 2FA" in page
    # It lands on Security → 2FA with Enabled already selected (issue 11).
    assert '<a class="button primary" href="/security/2fa?status=enabled">Enable 2FA</a>' in page


def test_an_admin_with_2fa_is_not_asked_again(admin, enable_2fa, client):
    two_factor = enable_2fa(admin)
    client.post("/login", {"username": "admin", "password": ADMIN_PASSWORD})
    client.post("/login/verify", {"challenge": two_factor.next_code()})
    page = text(client.get("/"))
    assert "Two-factor authentication is enabled." in page
    assert "Enable 2FA</a>" not in page


def test_the_overview_shows_which_accounts_have_2fa(admin, enable_2fa):
    enable_2fa(make_subadmin(admin, "bob"))
    make_subadmin(admin, "carol")
    make_subadmin(admin, "robot", web_access=False, api_access=True, allowed_ips="192.0.2.1")
    page = text(log_in_admin().get("/"))
    accounts = section(page, "Accounts")
    assert "Enabled" in row(accounts, "bob")
    assert "Disabled" in row(accounts, "carol")
    assert "n/a (API only)" in row(accounts, "robot")
    assert "Disabled" in row(accounts, "admin")


def test_the_overview_names_api_accounts_open_to_any_ip(admin):
    make_subadmin(admin, "open-robot", web_access=False, api_access=True)
    make_subadmin(admin, "fenced-robot", web_access=False, api_access=True, allowed_ips="::1")
    page = text(log_in_admin().get("/"))
    open_accounts = section(page, "API accounts open to any IP address")
    assert "open-robot" in open_accounts and "fenced-robot" not in open_accounts


def test_without_open_api_accounts_there_is_no_such_warning(admin):
    make_subadmin(admin, "fenced-robot", web_access=False, api_access=True, allowed_ips="::1")
    page = text(log_in_admin().get("/"))
    assert "API accounts open to any IP address" not in page


def test_the_overview_lists_recent_failed_logins(admin, client):
    client.post("/login", {"username": "admin", "password": "wrong-password-1"})
    client.post("/login", {"username": "nobody", "password": "wrong-password-2"})
    page = text(log_in_admin().get("/"))
    failures = section(page, "Recent failed logins")
    # A username nobody has is not logged: it may be a password typed in the wrong field.
    assert "nobody" not in failures
    assert failures.index("unknown account") < failures.index("admin")  # newest first
    assert failures.count("Sign-in refused: wrong password") == 2
    assert "127.0.0.1" in failures


def test_recent_failed_logins_are_grouped_and_in_words(admin):
    """Issue 21 item 10: one row per account, kind and IP with how many; no machine names."""
    far, near = (
        RequestFactory().post("/login", REMOTE_ADDR=ip) for ip in ("203.0.113.9", "198.51.100.7")
    )
    for _ in range(3):
        audit.record(AuditEvent.WEB_LOGIN_FAILED, actor_name="admin", request=far)
    audit.record(AuditEvent.WEBAUTHN_COUNTER_REGRESSED, actor_name="admin", request=far)
    audit.record(
        AuditEvent.WEB_LOGIN_REFUSED, actor_name="admin", request=near, reason="ip_not_allowed"
    )
    failures = section(text(log_in_admin().get("/")), "Recent failed logins")
    rows = re.findall(r"<tr>\s*<td.*?</tr>", failures, re.S)
    assert len(rows) == 3
    wrong = next(r for r in rows if "Sign-in refused: wrong password" in r)
    assert '<td data-label="Times"><span>3 ' in wrong
    assert any("Security key refused: possibly cloned" in r for r in rows)
    assert any("Sign-in refused: IP address not allowed" in r for r in rows)
    for machine_name in ("web_login_failed", "counter_regressed", "ip_not_allowed", "<code"):
        assert machine_name not in failures


def test_no_api_badge_on_an_account_whose_api_login_is_refused(admin, enable_2fa):
    """Issue 21 item 10: with 2FA on, the API login fails (SPEC §6): no API badge then."""
    enable_2fa(make_subadmin(admin, "both", api_access=True, allowed_ips="192.0.2.1"))
    make_subadmin(admin, "robot", web_access=False, api_access=True, allowed_ips="192.0.2.1")
    accounts = section(text(log_in_admin().get("/")), "Accounts")
    both = row(accounts, "both")
    assert '<span class="badge">API</span>' not in both
    assert "API login refused while 2FA is on" in both
    assert '<span class="badge">API</span>' in row(accounts, "robot")


def test_the_overview_shows_at_most_10_failures(admin):
    for n in range(12):
        audit.record(AuditEvent.WEB_LOGIN_FAILED, actor_name=f"guess{n:02}")
    failures = section(text(log_in_admin().get("/")), "Recent failed logins")
    assert failures.count("Sign-in refused: wrong password") == 10
    assert "guess11" in failures and "guess01" not in failures


def test_a_sub_admin_sees_only_its_own_2fa_status(admin):
    make_subadmin(admin, "bob")
    make_subadmin(admin, "carol")
    page = text(signed_in("bob").get("/"))
    assert "Protect your account with 2FA" in page
    assert "carol" not in page and "Recent failed logins" not in page
