"""What a browser with a security key does, for the integration tests (SPEC §11).

The test client talks to http://testserver, so the relying party is `testserver` and the
origin `http://testserver` (the defaults: the host the panel is reached by). The fixtures
`key` and `alice_key` are in conftest.py.
"""

import json
from dataclasses import dataclass

from django.test import Client
from webauthn.helpers import bytes_to_base64url

from tests.softkey import SoftKey

ORIGIN = "http://testserver"

_CLIENT_DATA = {"type": "webauthn.get", "challenge": "AAAA", "origin": ORIGIN}
_ANSWER_SHAPE = {
    "rawId": "AAAA",
    "type": "public-key",
    "response": {
        "clientDataJSON": bytes_to_base64url(json.dumps(_CLIENT_DATA).encode()),
        "attestationObject": "AAAA",
        "authenticatorData": "AAAA",
        "signature": "AAAA",
    },
}
# Answers no browser would send: garbage, truncated, wrong types, deeply nested, oversized.
BAD_ANSWERS = [
    "not json at all",
    '{"id": "abc", "rawId": "abc", "response": {"clientDataJSON": "eyJ0eXB',  # truncated
    "[]",
    '{"id": 5, "rawId": [1, 2], "response": "x", "type": "public-key"}',
    '{"id": "a", "rawId": "a", "type": "public-key", "response": {"clientDataJSON": "!!!",'
    ' "attestationObject": "%%%", "authenticatorData": "", "signature": ""}}',
    "[" * 5000 + "]" * 5000,
    "x" * 70_000,
    *(  # well formed, but an id that is not its rawId: a NUL (JSON-escaped), a lone surrogate
        json.dumps({**_ANSWER_SHAPE, "id": weird}) for weird in ("\x00", "\ud800", "AAAA=")
    ),
]


@dataclass(frozen=True)
class Side:
    """Where one kind of person's pages post a key's steps: the Admin's and Sub-Admins' pages,
    or My mailbox's (SPEC §14)."""

    options: str
    add_key: str
    use_key: str
    passkey: str


ADMIN = Side("/webauthn/options", "/security/2fa/keys/add", "/login/key", "/login/passkey")
OWNER = Side(
    "/mailbox/webauthn/options",
    "/mailbox/2fa/keys/add",
    "/mailbox/login/key",
    "/mailbox/login/passkey",
)


def options(client: Client, purpose: str, *, side: Side = ADMIN, **data) -> dict:
    """The options the page's script asks for before the browser's prompt."""
    response = client.post(side.options, {"purpose": purpose, **data})
    assert response.status_code == 200, response.content
    return response.json()["options"]


def add_key(client: Client, key: SoftKey, name: str = "YubiKey 5", *, side: Side = ADMIN):
    """Security → 2FA → Security keys (My mailbox → 2FA for an owner): Key name, Add security
    key, the browser's prompt."""
    answer = key.create(options(client, "register", side=side, name=name))
    return client.post(side.add_key, {"name": name, "credential": json.dumps(answer)})


def use_key(client: Client, answer: dict, *, side: Side = ADMIN):
    """The pop-up's Use security key, with the browser's answer."""
    return client.post(side.use_key, {"credential": json.dumps(answer)})


def passkey(client: Client, answer: dict, *, side: Side = ADMIN):
    """The login page's Sign in with a passkey, with the browser's answer."""
    return client.post(side.passkey, {"credential": json.dumps(answer)})
