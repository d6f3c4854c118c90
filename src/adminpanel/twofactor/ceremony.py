"""The WebAuthn ceremonies without a database (the shape of Warehouse's utils/webauthn.py):
the relying party, reading a browser's answer, the options for the browser, and verifying
answers. py_webauthn does everything cryptographic (CBOR, COSE keys, attestation,
signatures, origin, RP ID and flags).

The rules around it (a challenge spent once, under the person's lock; the counter; the
throttle) are in challenges.py, keys.py and key_services.py.
"""

import ipaddress
import json
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.http.request import split_domain_port
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from adminpanel.errors import Invalid, Refused

KEY_NAME_MAX = 64
MAX_ANSWER = 64 * 1024  # a registration with an attestation certificate chain is a few KB
UNREADABLE = "The security key's answer could not be read. Try again."
NOT_VERIFIED = "The security key's answer could not be verified. Try again."
# What a client can send that the library or the JSON parser refuses with these.
_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, RecursionError)


@dataclass(frozen=True)
class RelyingParty:
    """Who the browser is asked to sign for: an RP ID (a host name) and the accepted origins."""

    id: str
    name: str
    origins: tuple[str, ...]


def relying_party(request) -> RelyingParty:
    """The relying party for this request: from settings, else the host it was reached by.

    The Host header was checked against ALLOWED_HOSTS by Django before this runs.
    """
    host = request.get_host()
    rp_id = settings.WEBAUTHN_RP_ID or split_domain_port(host)[0].strip("[]").lower()
    if not rp_id or _is_ip(rp_id):
        raise Refused("unavailable", keys_need_a_host_name(request))
    origins = tuple(settings.WEBAUTHN_ORIGINS) or (f"{request.scheme}://{host}",)
    return RelyingParty(rp_id, settings.TOTP_ISSUER, origins)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def by_host_name(request, path: str = "/") -> str | None:
    """Where this page works with security keys when it was opened by an IP address (an IP is
    never a relying party ID): `path` at localhost for a loopback address, "" for
    another address (only its host name will do), None when keys work here."""
    if settings.WEBAUTHN_RP_ID:
        return None
    name, port = split_domain_port(request.get_host())
    name = name.strip("[]")
    if name and not _is_ip(name):
        return None
    if not name or not ipaddress.ip_address(name).is_loopback:
        return ""
    return f"{request.scheme}://localhost{':' + port if port else ''}{path}"


def keys_need_a_host_name(request, path: str = "/") -> str:
    url = by_host_name(request, path)
    where = f"open {url}" if url else "open the panel by its host name"
    return f"Security keys and passkeys need a host name, not an IP address: {where}."


def clean_key_name(raw: object) -> str:
    """A key's name as shown in the list: 1-64 printable characters."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("name", "Enter a name for this key, e.g. “YubiKey on my keyring”.")
    name = " ".join(raw.split())
    if len(name) > KEY_NAME_MAX:
        raise Invalid("name", f"A key name has at most {KEY_NAME_MAX} characters.")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise Invalid("name", "A key name cannot contain control characters.")
    return name


# --- a browser's answer --------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A browser's answer, parsed (not yet verified): the credential and its client data."""

    credential: object
    challenge: str  # base64url, as stored
    origin: str
    credential_id: str
    # the browser's credProps at registration: the key keeps the person (a passkey)
    discoverable: bool = False

    @property
    def user_handle(self) -> str | None:
        """The user.id the key signed with (base64url), when it says (a passkey does)."""
        handle = getattr(self.credential.response, "user_handle", None)
        return bytes_to_base64url(handle) if handle is not None else None


def parse(raw: object, *, registration: bool) -> Answer:
    """The browser's JSON answer, read; Refused("malformed") when it is not one."""
    if not isinstance(raw, str | dict) or (isinstance(raw, str) and len(raw) > MAX_ANSWER):
        raise Refused("malformed", UNREADABLE)
    try:
        if isinstance(raw, str):
            raw = json.loads(raw)
        if not isinstance(raw, dict):
            raise Refused("malformed", UNREADABLE)
        parse_json = (
            parse_registration_credential_json
            if registration
            else parse_authentication_credential_json
        )
        credential = parse_json(raw)
        client = parse_client_data_json(credential.response.client_data_json)
        if not isinstance(client.origin, str):
            raise Refused("malformed", UNREADABLE)
        challenge = bytes_to_base64url(client.challenge)
    except _MALFORMED:
        raise Refused("malformed", UNREADABLE) from None
    # The id is looked up before the library verifies the answer: it must be what the library
    # will check it against (rawId in base64url), never text a database might choke on.
    credential_id = bytes_to_base64url(credential.raw_id)
    if credential.id != credential_id or len(credential_id) > 1400 or not challenge:
        raise Refused("malformed", UNREADABLE)
    extensions = raw.get("clientExtensionResults")
    props = extensions.get("credProps") if isinstance(extensions, dict) else None
    discoverable = isinstance(props, dict) and props.get("rk") is True
    return Answer(credential, challenge, client.origin[:200], credential_id, discoverable)


def check_origin(answer: Answer, rp: RelyingParty) -> None:
    if answer.origin not in rp.origins:
        raise Refused(
            "wrong_origin",
            "This answer was made for another web address, not this panel. Sign in only at "
            "the panel's own address.",
        )


# --- options for the browser -----------------------------------------------------------------


def _descriptors(credential_ids: list[str]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in credential_ids]


def registration_options(
    rp: RelyingParty, *, user_handle: str, user_name: str, challenge: str, exclude: list[str]
) -> str:
    """The JSON for navigator.credentials.create(): a new key, none of `exclude` again."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=base64url_to_bytes(user_handle),
        user_name=user_name,
        user_display_name=user_name,
        challenge=base64url_to_bytes(challenge),
        timeout=settings.WEBAUTHN_CHALLENGE_SECONDS * 1000,
        # A passkey where the authenticator can keep one; a plain security key works too.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(exclude),
    )
    return options_to_json(options)


def authentication_options(
    rp: RelyingParty, *, challenge: str, allowed: list[str], passkey: bool = False
) -> str:
    """The JSON for navigator.credentials.get(): one of `allowed`, or (passkey) any passkey,
    which must verify its user."""
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=base64url_to_bytes(challenge),
        timeout=settings.WEBAUTHN_CHALLENGE_SECONDS * 1000,
        allow_credentials=_descriptors(allowed),
        user_verification=(
            UserVerificationRequirement.REQUIRED
            if passkey
            else UserVerificationRequirement.DISCOURAGED
        ),
    )
    return options_to_json(options)


# --- verifying answers -------------------------------------------------------------------------


@dataclass(frozen=True)
class NewKey:
    credential_id: str
    public_key: bytes
    sign_count: int
    synced: bool  # a multi-device (synced) credential: a passkey


def verify_registration(answer: Answer, *, challenge: str, rp: RelyingParty) -> NewKey:
    """The new key an answer to `challenge` registers; Refused("invalid") when it does not
    verify."""
    try:
        verified = verify_registration_response(
            credential=answer.credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
        )
    except _MALFORMED:
        raise Refused("invalid", NOT_VERIFIED) from None
    return NewKey(
        bytes_to_base64url(verified.credential_id),
        verified.credential_public_key,
        verified.sign_count,
        verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
    )


def verify_assertion(
    answer: Answer, *, challenge: str, rp: RelyingParty, public_key: bytes, user_verified: bool
) -> int:
    """The signature counter of an answer to `challenge` signed by `public_key`; Refused
    ("invalid") when it does not verify. The counter is the caller's to judge."""
    try:
        verified = verify_authentication_response(
            credential=answer.credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            credential_public_key=public_key,
            # 0: the library leaves the counter to us, so that only a correctly signed
            # answer can be called a cloned key (keys.py).
            credential_current_sign_count=0,
            require_user_verification=user_verified,
        )
    except _MALFORMED:
        raise Refused("invalid", NOT_VERIFIED) from None
    return verified.new_sign_count
