"""Chromium's virtual authenticator for the browser tests of security keys and passkeys (SPEC
§11, §14): the browser's real WebAuthn code makes and signs the credentials, through the
DevTools protocol."""

import base64
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Page


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class VirtualAuthenticator:
    """One of Chromium's virtual authenticators, attached to a page through a CDP session."""

    def __init__(self, page: Page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }
        reply = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        self.id = reply["authenticatorId"]

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def hold_only(self, credentials: list[dict]) -> None:
        """From now on hold exactly these credentials (as credentials() gave them): another
        authenticator, as far as the panel can tell, or the first one back."""
        self.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": self.id})
        for credential in credentials:
            self.cdp.send(
                "WebAuthn.addCredential", {"authenticatorId": self.id, "credential": credential}
            )

    def add_foreign_passkey(self, rp_id: str) -> None:
        """A passkey for this site that the panel never registered (made outside it)."""
        key = ec.generate_private_key(ec.SECP256R1())
        pkcs8 = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        credential = {
            "credentialId": _base64(secrets.token_bytes(32)),
            "isResidentCredential": True,
            "rpId": rp_id,
            "privateKey": _base64(pkcs8),
            "userHandle": _base64(secrets.token_bytes(32)),
            "signCount": 0,
        }
        self.cdp.send(
            "WebAuthn.addCredential", {"authenticatorId": self.id, "credential": credential}
        )
