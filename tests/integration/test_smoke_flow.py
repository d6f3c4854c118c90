import re

import pyotp
import pytest

from adminpanel.accounts.models import Account

pytestmark = pytest.mark.django_db


def test_enable_login_and_disable(client, clock):
    Account.objects.create_user("admin", "correct-horse-battery", is_owner=True)
    r = client.post("/login", {"username": "admin", "password": "correct-horse-battery"})
    assert r.status_code == 302 and r.url == "/"
    r = client.post("/security/2fa", {"status": "enabled"})
    assert r.url == "/security/2fa/enable"
    r = client.post("/security/2fa/enable")
    assert r.url == "/security/2fa/setup"
    page = client.get("/security/2fa/setup").content.decode()
    key = re.search(r'id="manual-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    setup = re.search(r'name="setup" value="(\d+)"', page).group(1)
    code = pyotp.TOTP(key).at(clock())
    r = client.post("/security/2fa/setup", {"setup": setup, "challenge": code})
    body = r.content.decode()
    assert "Two-factor authentication is enabled." in body
    assert (
        len(
            re.findall(
                r"<li><code>[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}</code></li>", body
            )
        )
        == 10
    )
    client.post("/logout")
    r = client.post("/login", {"username": "ADMIN", "password": "correct-horse-battery"})
    assert r.url == "/login"
    page = client.get("/login").content.decode()
    assert "<dialog open" in page and "Two-factor authentication" in page
    assert client.get("/").status_code == 302
    r = client.post("/login/verify", {"challenge": code})
    assert "This code has already been used. Wait for the next code." in r.content.decode()
    clock.advance(seconds=30)
    r = client.post("/login/verify", {"challenge": pyotp.TOTP(key).at(clock())})
    assert r.status_code == 302 and r.url == "/"
    assert client.get("/").status_code == 200
    r = client.post("/security/2fa", {"status": "disabled"})
    assert r.url == "/security/2fa/disable"
    r = client.post("/security/2fa/disable", {"challenge": "000000"}, follow=True)
    assert "Invalid code." in r.content.decode()
    clock.advance(seconds=30)
    r = client.post(
        "/security/2fa/disable", {"challenge": pyotp.TOTP(key).at(clock())}, follow=True
    )
    body = r.content.decode()
    assert "Two-factor authentication is disabled." in body
    assert "You can now delete the entry from your 2FA app." in body
