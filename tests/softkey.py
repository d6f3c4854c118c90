"""A software security key for tests: real P-256 keys and real signatures.

It answers the panel's WebAuthn options the way a browser plus an authenticator would: the
clientDataJSON the browser writes, the authenticator data and COSE key (CBOR, through cbor2,
which py_webauthn itself uses) and an ECDSA signature made with the `cryptography` package.
The panel verifies them with py_webauthn; nothing here is checked by hand-written code.
"""

import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

FLAG_UP, FLAG_UV, FLAG_AT = 0x01, 0x04, 0x40


@dataclass
class Credential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftKey:
    """An authenticator holding any number of credentials (resident, with user verification)."""

    origin: str
    credentials: dict[bytes, Credential] = field(default_factory=dict)
    user_verified: bool = True

    def _flags(self, *extra: int) -> int:
        flags = FLAG_UP | (FLAG_UV if self.user_verified else 0)
        for bit in extra:
            flags |= bit
        return flags

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps({**data, "crossOrigin": False}, separators=(",", ":")).encode()

    def create(
        self,
        options: dict | str,
        *,
        origin: str | None = None,
        credential: Credential | None = None,
    ) -> dict:
        """navigator.credentials.create(): the registration answer (JSON) for a new credential
        (or for `credential` again, as a copied answer would carry it)."""
        options = json.loads(options) if isinstance(options, str) else options
        rp_id = options["rp"]["id"]
        if credential is None:
            credential = Credential(
                secrets.token_bytes(32),
                ec.generate_private_key(ec.SECP256R1()),
                rp_id,
                base64url_to_bytes(options["user"]["id"]),
            )
        numbers = credential.private_key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        self.credentials[credential.credential_id] = credential
        authenticator_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(FLAG_AT)])
            + struct.pack(">I", credential.sign_count)
            + bytes(16)  # AAGUID
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + cose_key
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": authenticator_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": bytes_to_base64url(credential.credential_id),
            "rawId": bytes_to_base64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict | str,
        *,
        origin: str | None = None,
        credential: Credential | None = None,
        sign_count: int | None = None,
    ) -> dict:
        """navigator.credentials.get(): a signed answer; the counter goes up unless given."""
        options = json.loads(options) if isinstance(options, str) else options
        if credential is None:
            allowed = [base64url_to_bytes(c["id"]) for c in options.get("allowCredentials", [])]
            candidates = [self.credentials[i] for i in allowed if i in self.credentials]
            candidates = candidates or list(self.credentials.values())
            credential = candidates[0]
        credential.sign_count = credential.sign_count + 1 if sign_count is None else sign_count
        authenticator_data = (
            hashlib.sha256(options.get("rpId", credential.rp_id).encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", credential.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.private_key.sign(
            authenticator_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": bytes_to_base64url(credential.credential_id),
            "rawId": bytes_to_base64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(authenticator_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": bytes_to_base64url(credential.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
