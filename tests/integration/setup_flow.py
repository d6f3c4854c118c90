"""Security → 2FA's setup as a browser walks it: begin, read the code, save."""

import pyotp
from django.test import Client

from tests.integration.panel import (
    MANUAL_KEY,
    SETUP_ID,
    text,
)


def begin_setup(client: Client) -> tuple[str, str, str]:
    """Select Enabled, Save, Next: the setup page, its key and its setup id."""
    assert client.post("/security/2fa", {"status": "enabled"}).url == "/security/2fa/enable"
    assert client.post("/security/2fa/enable").url == "/security/2fa/setup"
    page = text(client.get("/security/2fa/setup"))
    key = MANUAL_KEY.search(page).group(1).replace(" ", "")
    return page, key, SETUP_ID.search(page).group(1)


def save_setup(client: Client, setup: str, challenge: str):
    return client.post("/security/2fa/setup", {"setup": setup, "challenge": challenge})


def code_for(key: str, clock) -> str:
    return pyotp.TOTP(key).at(clock())
