"""SPEC §4.6, §6 across instances: an API token issued by one instance dies everywhere the
moment its account enables 2FA (or logs the token out) on another."""

import re

import pyotp
import requests

from testbed.cluster import Browser
from tests.cluster.instances import PASSWORD

GRANT_API_ACCESS = """
from adminpanel.accounts.models import Account
Account.objects.filter(username={name!r}).update(api_access=True)
"""


def api_account(fleet, accounts) -> str:
    (account,) = accounts(1, two_factor=False)
    fleet.django(GRANT_API_ACCESS.format(name=account["username"]))
    return account["username"]


def api_login(base_url: str, username: str) -> requests.Response:
    return requests.post(
        f"{base_url}/api/v1/auth/login",
        json={"username": username, "password": PASSWORD},
        timeout=30,
    )


def me(base_url: str, token: str) -> requests.Response:
    return requests.get(
        f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def enable_2fa_through_the_pages(tab: Browser, username: str) -> None:
    assert tab.password_step(username, PASSWORD).headers["Location"] == "/"
    assert tab.post("/security/2fa", {"status": "enabled"}).status_code == 302
    assert tab.post("/security/2fa/enable").status_code == 302
    page = tab.get("/security/2fa/setup").text
    key = re.search(r'id="manual-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    setup = re.search(r'name="setup" value="(\d+)"', page).group(1)
    done = tab.post("/security/2fa/setup", {"setup": setup, "challenge": pyotp.TOTP(key).now()})
    assert "Two-factor authentication is enabled." in done.text


def test_a_token_from_one_instance_is_refused_by_the_other_once_2fa_is_on(fleet, accounts, a, b):
    username = api_account(fleet, accounts)
    token = api_login(a, username).json()["token"]
    assert me(b, token).status_code == 200

    enable_2fa_through_the_pages(Browser(a), username)

    refused = me(b, token)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    again = api_login(b, username)
    assert again.status_code == 403 and again.json()["error"] == "two_factor_enabled"


def test_a_token_logged_out_on_one_instance_is_refused_by_the_other(fleet, accounts, a, b):
    username = api_account(fleet, accounts)
    token = api_login(b, username).json()["token"]
    logout = requests.post(
        f"{a}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert logout.status_code == 204
    assert me(b, token).status_code == 401
