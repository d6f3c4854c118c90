"""Security keys and passkeys (SPEC §11): the WebAuthn ceremonies and their rules.

py_webauthn does everything cryptographic (CBOR, COSE keys, attestation, signatures, origin,
RP ID and flags); this module holds the rules around it, in the database, under the one lock
of ARCHITECTURE.md: a challenge is random, bound to one session (a passkey sign-in's: to a
signed cookie, so that anonymous visitors store nothing) and one purpose, lives 5 minutes and
is accepted once; the signature counter must grow; failures count in the same
throttle as codes. Every outcome is in the audit log.
"""

import ipaddress
import json
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http.request import split_domain_port
from django.utils.crypto import constant_time_compare
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

from adminpanel import audit
from adminpanel.accounts import access, web_sessions
from adminpanel.accounts.models import Account
from adminpanel.accounts.tokens import revoke_tokens
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Invalid, Refused, get_by_id
from adminpanel.twofactor import recovery, services, state
from adminpanel.twofactor.models import WebAuthnChallenge, WebAuthnKey
from adminpanel.twofactor.services import Verdict

# Purposes a challenge can be made for; an answer is accepted only for its own.
REGISTER = "register"
LOGIN = "login"  # the second step after the password
PASSKEY = "passkey"  # sign-in with a passkey alone
DISABLE = "disable"  # turning 2FA off (removing the last key)
CONFIRM = "confirm"  # Confirm access (SPEC §12)
REGENERATE = "regenerate"  # Generate new recovery codes
PURPOSES = (REGISTER, LOGIN, PASSKEY, DISABLE, CONFIRM, REGENERATE)

SESSION_BINDING = "webauthn_binding"
# A passkey sign-in starts before any session: its challenge travels in a signed cookie (the
# browser's binding) and gets a row only when an answer spends it.
PASSKEY_COOKIE = "adminpanel_passkey"
PASSKEY_SALT = "adminpanel.twofactor.passkey-challenge"
KEY_NAME_MAX = 64
MAX_ANSWER = 64 * 1024  # a registration with an attestation certificate chain is a few KB
CHALLENGE_BYTES = 32
UNREADABLE = "The security key's answer could not be read. Try again."
NOT_VERIFIED = "The security key's answer could not be verified. Try again."
NOT_REGISTERED = "This security key is not registered for this account."
AGAIN = "Try again."
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


def session_binding(session) -> str:
    """The random token that ties this session's challenges to it (made on first use)."""
    token = session.get(SESSION_BINDING)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[SESSION_BINDING] = token
    return token


# --- input -------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Answer:
    """A browser's answer, parsed (not yet verified): the credential and its client data."""

    credential: object
    challenge: str  # base64url, as stored
    origin: str
    credential_id: str
    # the browser's credProps at registration: the key keeps the account (a passkey)
    discoverable: bool = False


def _parse(raw: object, *, registration: bool) -> _Answer:
    if not isinstance(raw, str | dict) or (isinstance(raw, str) and len(raw) > MAX_ANSWER):
        raise Refused("malformed", UNREADABLE)
    try:
        if isinstance(raw, str):
            raw = json.loads(raw)
        if not isinstance(raw, dict):
            raise Refused("malformed", UNREADABLE)
        parse = (
            parse_registration_credential_json
            if registration
            else parse_authentication_credential_json
        )
        credential = parse(raw)
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
    return _Answer(credential, challenge, client.origin[:200], credential_id, discoverable)


# --- challenges --------------------------------------------------------------------------


def _new_challenge(
    binding: str, purpose: str, account: Account | None, now: datetime, user_handle: str = ""
) -> WebAuthnChallenge:
    """A fresh challenge for this session and purpose, replacing its earlier one."""
    with transaction.atomic():
        WebAuthnChallenge.objects.filter(expires_at__lt=now).delete()  # expired ones are dead
        WebAuthnChallenge.objects.filter(
            binding=binding, purpose=purpose, used_at__isnull=True
        ).delete()
        return WebAuthnChallenge.objects.create(
            challenge=bytes_to_base64url(secrets.token_bytes(CHALLENGE_BYTES)),
            binding=binding,
            purpose=purpose,
            account=account,
            user_handle=user_handle,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.WEBAUTHN_CHALLENGE_SECONDS),
        )


def _take_challenge(
    answer: _Answer, *, binding: str, purpose: str, account: Account | None, now: datetime
) -> WebAuthnChallenge:
    """The challenge this answer signs, spent now; Refused when it may not be used.

    Called under the account's lock, so of simultaneous answers exactly one spends it.
    """
    found = WebAuthnChallenge.objects.filter(challenge=answer.challenge).first()
    if found is None:
        raise Refused("unknown_challenge", f"This request was replaced or has ended. {AGAIN}")
    if found.binding != binding:
        raise Refused("other_session", f"This answer belongs to another session. {AGAIN}")
    account_id = account.pk if account is not None else None
    if found.purpose != purpose or found.account_id != account_id:
        raise Refused("other_purpose", f"This answer was made for another step. {AGAIN}")
    if found.used_at is not None:
        raise Refused("replayed", f"This security key answer has already been used. {AGAIN}")
    if found.expires_at <= now:
        raise Refused("expired", f"The security key request expired (5 minutes). {AGAIN}")
    spent = WebAuthnChallenge.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now)
    if spent != 1:
        raise Refused("replayed", f"This security key answer has already been used. {AGAIN}")
    return found


def _check_origin(answer: _Answer, rp: RelyingParty) -> None:
    if answer.origin not in rp.origins:
        raise Refused(
            "wrong_origin",
            "This answer was made for another web address, not this panel. Sign in only at "
            "the panel's own address.",
        )


# --- options -----------------------------------------------------------------------------


def _descriptors(keys) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(k.credential_id)) for k in keys]


def _user_handle(account: Account) -> str:
    existing = WebAuthnKey.objects.filter(account=account).values_list("user_handle", flat=True)
    return existing.first() or bytes_to_base64url(secrets.token_bytes(32))


def registration_options(account: Account, *, session, rp: RelyingParty, now: datetime) -> str:
    """The JSON for navigator.credentials.create(): a new key for this account."""
    handle = _user_handle(account)
    challenge = _new_challenge(session_binding(session), REGISTER, account, now, handle)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=base64url_to_bytes(handle),
        user_name=account.username,
        user_display_name=account.username,
        challenge=base64url_to_bytes(challenge.challenge),
        timeout=settings.WEBAUTHN_CHALLENGE_SECONDS * 1000,
        # A passkey where the authenticator can keep one; a plain security key works too.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(WebAuthnKey.objects.filter(account=account)),
    )
    return options_to_json(options)


def authentication_options(
    account: Account, *, purpose: str, session, rp: RelyingParty, now: datetime
) -> str:
    """The JSON for navigator.credentials.get() with this account's keys."""
    if purpose not in PURPOSES or purpose in (REGISTER, PASSKEY):
        raise Refused("malformed", UNREADABLE)
    allowed = _descriptors(WebAuthnKey.objects.filter(account=account))
    if not allowed:
        raise Refused("no_keys", "This account has no security key.")
    challenge = _new_challenge(session_binding(session), purpose, account, now)
    return _authentication_json(
        rp, challenge.challenge, allowed, UserVerificationRequirement.DISCOURAGED
    )


def passkey_options(*, rp: RelyingParty, now: datetime) -> tuple[str, str]:
    """(JSON for navigator.credentials.get() with any passkey, the ticket for PASSKEY_COOKIE).

    No session and no row: an anonymous visitor may ask any number of times and leaves
    nothing behind. The ticket (signed: the challenge and its end) binds the challenge to
    the browser that keeps the cookie; the answer spends it (_spend_ticket).
    """
    challenge = bytes_to_base64url(secrets.token_bytes(CHALLENGE_BYTES))
    ends = now.timestamp() + settings.WEBAUTHN_CHALLENGE_SECONDS
    ticket = signing.dumps({"challenge": challenge, "ends": ends}, salt=PASSKEY_SALT)
    options = _authentication_json(rp, challenge, [], UserVerificationRequirement.REQUIRED)
    return options, ticket


def _authentication_json(rp: RelyingParty, challenge: str, allowed, verification) -> str:
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=base64url_to_bytes(challenge),
        timeout=settings.WEBAUTHN_CHALLENGE_SECONDS * 1000,
        allow_credentials=allowed,
        user_verification=verification,
    )
    return options_to_json(options)


def _spend_ticket(answer: _Answer, ticket: str, now: datetime) -> str:
    """The passkey challenge this answer signs, spent now (a row that a replay runs into);
    Refused when the browser's ticket is not for it. Called under the account's lock."""
    try:
        data = signing.loads(ticket, salt=PASSKEY_SALT)
        challenge, ends = str(data["challenge"]), float(data["ends"])
    except (signing.BadSignature, TypeError, KeyError, ValueError):
        raise Refused(
            "unknown_challenge", f"This request was replaced or has ended. {AGAIN}"
        ) from None
    if not constant_time_compare(challenge, answer.challenge):
        raise Refused("unknown_challenge", f"This request was replaced or has ended. {AGAIN}")
    if ends <= now.timestamp():
        raise Refused("expired", f"The security key request expired (5 minutes). {AGAIN}")
    try:
        with transaction.atomic():  # a savepoint: a replay's conflict leaves the rest intact
            WebAuthnChallenge.objects.filter(expires_at__lt=now).delete()
            WebAuthnChallenge.objects.create(
                challenge=challenge,
                purpose=PASSKEY,
                created_at=now,
                expires_at=datetime.fromtimestamp(ends, UTC),
                used_at=now,
            )
    except IntegrityError:
        raise Refused(
            "replayed", f"This security key answer has already been used. {AGAIN}"
        ) from None
    return challenge


# --- the locked checks -------------------------------------------------------------------


def keys_of(account: Account) -> list[WebAuthnKey]:
    return list(WebAuthnKey.objects.filter(account=account))


def get_key(account: Account, pk: object) -> WebAuthnKey:
    """One of this account's keys, or NotFound."""
    return get_by_id(WebAuthnKey.objects.filter(account=account), pk)


def _register(
    locked: Account,
    answer: _Answer,
    name: str,
    *,
    binding: str,
    rp: RelyingParty,
    now: datetime,
    request=None,
) -> WebAuthnKey:
    """Verify a new key's answer and store it; call under the account's lock.

    Raises Refused (nothing stored) when the answer is not for this session's registration
    challenge, was made at another origin, or does not verify.
    """
    challenge = _take_challenge(answer, binding=binding, purpose=REGISTER, account=locked, now=now)
    _check_origin(answer, rp)
    try:
        verified = verify_registration_response(
            credential=answer.credential,
            expected_challenge=base64url_to_bytes(challenge.challenge),
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
        )
    except _MALFORMED:
        raise Refused("invalid", NOT_VERIFIED) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if WebAuthnKey.objects.filter(credential_id=credential_id).exists():
        raise Refused("already_registered", "This security key is already registered.")
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin insert stays clean
            key = WebAuthnKey.objects.create(
                account=locked,
                name=name,
                credential_id=credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                user_handle=challenge.user_handle,
                created_at=now,
                # a passkey: the browser says the key keeps the account, or it syncs
                passkey=answer.discoverable
                or verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            )
    except IntegrityError:
        raise Refused("already_registered", "This security key is already registered.") from None
    audit.record(
        AuditEvent.WEBAUTHN_KEY_ADDED, actor=locked, request=request, key=key.pk, name=name
    )
    return key


def _check_assertion(
    locked: Account,
    answer: _Answer,
    *,
    binding: str,
    purpose: str,
    rp: RelyingParty,
    now: datetime,
    request=None,
) -> WebAuthnKey:
    """Verify a signed answer of one of this account's keys; call under its lock.

    Spends the challenge whatever the outcome. Raises Refused; a counter that does not grow
    is refused and logged as a possible cloned key.
    """
    if purpose == PASSKEY:  # the binding is the browser's ticket
        expected = _spend_ticket(answer, binding, now)
    else:
        expected = _take_challenge(
            answer, binding=binding, purpose=purpose, account=locked, now=now
        ).challenge
    _check_origin(answer, rp)
    key = WebAuthnKey.objects.filter(credential_id=answer.credential_id).first()
    if key is None or key.account_id != locked.pk:
        reason = "unknown_key" if key is None else "other_account"
        raise Refused(reason, NOT_REGISTERED)
    if purpose == PASSKEY:
        handle = answer.credential.response.user_handle
        if handle is None or bytes_to_base64url(handle) != key.user_handle:
            raise Refused("other_account", NOT_REGISTERED)
    try:
        verified = verify_authentication_response(
            credential=answer.credential,
            expected_challenge=base64url_to_bytes(expected),
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            credential_public_key=bytes(key.public_key),
            # 0: the library leaves the counter to us, so that only a correctly signed
            # answer can be called a cloned key (below).
            credential_current_sign_count=0,
            require_user_verification=purpose == PASSKEY,
        )
    except _MALFORMED:
        raise Refused("invalid", NOT_VERIFIED) from None
    received = verified.new_sign_count
    if (received or key.sign_count) and received <= key.sign_count:
        audit.record(
            AuditEvent.WEBAUTHN_COUNTER_REGRESSED,
            actor=locked,
            request=request,
            key=key.pk,
            name=key.name,
            stored=key.sign_count,
            received=received,
        )
        raise Refused(
            "counter_regressed",
            "This security key's signature counter went backwards, so it may have been "
            "copied. It was refused: use another key or a recovery code, and remove this key.",
        )
    key.sign_count = received
    key.last_used_at = now
    key.save(update_fields=["sign_count", "last_used_at"])
    audit.record(
        AuditEvent.WEBAUTHN_KEY_USED,
        actor=locked,
        request=request,
        key=key.pk,
        name=key.name,
        purpose=purpose,
    )
    return key


def _remove_key_row(locked: Account, key: WebAuthnKey, *, request=None) -> None:
    """Delete one key of the locked account (the caller decides whether it may go)."""
    WebAuthnKey.objects.filter(pk=key.pk, account=locked).delete()
    audit.record(
        AuditEvent.WEBAUTHN_KEY_REMOVED, actor=locked, request=request, key=key.pk, name=key.name
    )


def delete_all_keys(locked: Account) -> int:
    """Every key of the locked account goes (2FA disabled or reset)."""
    deleted, _ = WebAuthnKey.objects.filter(account=locked).delete()
    return deleted


# --- services: what the views call ---------------------------------------------------------

LAST_FACTOR = (
    "This is your last second factor: removing it turns two-factor authentication off. "
    "Confirm with this key, or with a recovery code."
)
PASSKEY_UNKNOWN = "This passkey is not registered here. Log in with your username and password."


def _context(locked: Account, request, purpose: str) -> dict:
    return {"actor": locked, "request": request, "purpose": purpose, "method": "key"}


def add_key(
    account: Account,
    raw: object,
    name: object,
    *,
    session,
    rp: RelyingParty,
    now: datetime,
    request=None,
) -> list[str] | None:
    """Register a new security key or passkey for the account.

    When it is the account's first second factor, 2FA is now on: its API tokens are revoked and
    the 10 recovery codes are returned, to be shown once. Otherwise returns None. Raises
    Invalid (the name) or Refused; either way nothing is stored.
    """
    clean = clean_key_name(name)
    answer = _parse(raw, registration=True)
    binding = session_binding(session)
    # Recovery codes are hashed outside the lock, when they will probably be needed.
    prepared = recovery.new_codes() if not _enabled(account) else None
    with transaction.atomic():
        locked, _ = state.lock(account)
        first = not _enabled(locked)
        try:
            _register(locked, answer, clean, binding=binding, rp=rp, now=now, request=request)
        except Refused as rejection:
            # The spent challenge is committed with the log line; no key is stored.
            audit.record(
                AuditEvent.WEBAUTHN_KEY_REFUSED,
                actor=locked,
                request=request,
                reason=rejection.reason,
            )
            refused = rejection
        else:
            refused = None
            if first:
                codes, hashes = prepared or recovery.new_codes()
                recovery.store(locked, hashes)
                audit.record(
                    AuditEvent.TWO_FACTOR_ENABLED, actor=locked, request=request, method="key"
                )
                # A session from before 2FA must not keep access it never proved (SPEC §12).
                web_sessions.end_other_sessions(locked, reason="2fa_enabled", request=request)
                revoke_tokens(locked, "two_factor_enabled", request=request)
    if refused is not None:
        raise refused
    return recovery.formatted(codes) if first else None


def _check_key(
    locked: Account,
    code_state,
    answer: _Answer,
    *,
    binding: str,
    purpose: str,
    rp: RelyingParty,
    now: datetime,
    request,
) -> Verdict | Refused:
    """A signed answer checked under the lock, in the same throttle as codes."""
    context = _context(locked, request, purpose)
    waiting = state.waiting(code_state, now, context)
    if waiting is not None:
        return waiting
    if state.locked_out(code_state):
        return Refused(
            "locked", "Too many failed attempts: only a recovery code can unlock this account now."
        )
    try:
        _check_assertion(
            locked, answer, binding=binding, purpose=purpose, rp=rp, now=now, request=request
        )
    except Refused as rejection:
        return state.fail(code_state, rejection, now, **context)
    state.succeed(code_state, None)
    return Verdict("key")


def verify_key(
    account: Account,
    raw: object,
    *,
    purpose: str = LOGIN,
    session,
    rp: RelyingParty,
    now: datetime,
    request=None,
    on_success: Callable[[Account], None] | None = None,
) -> Verdict:
    """Accept a signed answer of one of the account's keys, once, for this session's purpose.

    on_success runs under the same lock and transaction as the check (e.g. turning 2FA off).
    """
    answer = _parse(raw, registration=False)
    binding = session_binding(session)
    with transaction.atomic():
        locked, code_state = state.lock(account)
        outcome = _check_key(
            locked,
            code_state,
            answer,
            binding=binding,
            purpose=purpose,
            rp=rp,
            now=now,
            request=request,
        )
        if on_success is not None and isinstance(outcome, Verdict):
            on_success(locked)
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


def _enabled(account: Account) -> bool:
    return services.has_app(account) or services.has_keys(account)


def _access_refusal(account: Account, ip: str) -> Refused | None:
    """The one access rule (accounts.access) for a passkey sign-in: web channel, this IP."""
    if not account.is_active:
        return Refused("unknown_key", PASSKEY_UNKNOWN)
    return access.refusal(account, channel="web", ip=ip)


def sign_in_with_passkey(
    raw: object, *, ticket: str, rp: RelyingParty, ip: str, now: datetime, request=None
) -> Account:
    """The account whose passkey signed this answer (with user verification): both factors.
    `ticket`: the browser's PASSKEY_COOKIE (passkey_options).

    Raises Refused: the answer is not accepted, or the account may not log in here.
    """
    answer = _parse(raw, registration=False)
    key = WebAuthnKey.objects.filter(credential_id=answer.credential_id).first()
    if key is None:
        audit.record(AuditEvent.PASSKEY_LOGIN_FAILED, request=request, reason="unknown_key")
        raise Refused("unknown_key", PASSKEY_UNKNOWN)
    with transaction.atomic():
        locked, code_state = state.lock(key.account)
        outcome = _access_refusal(locked, ip)
        if outcome is not None:
            audit.record(
                AuditEvent.WEB_LOGIN_REFUSED,
                actor=locked,
                request=request,
                reason=outcome.reason,
                method="passkey",
            )
        else:
            outcome = _check_key(
                locked,
                code_state,
                answer,
                binding=ticket,
                purpose=PASSKEY,
                rp=rp,
                now=now,
                request=request,
            )
        if isinstance(outcome, Verdict):
            if not key.passkey:  # it just signed in without a password: a passkey
                WebAuthnKey.objects.filter(pk=key.pk).update(passkey=True)
            audit.record(
                AuditEvent.PASSKEY_SIGN_IN, actor=locked, request=request, key=key.pk, name=key.name
            )
    if not isinstance(outcome, Verdict):
        raise outcome
    return locked


def removes_last_factor(account: Account) -> bool:
    """Would removing one key turn 2FA off? (no app, and this is the only key)"""
    return (
        not services.has_app(account) and WebAuthnKey.objects.filter(account=account).count() <= 1
    )


def remove_key(account: Account, pk: object, *, request=None) -> WebAuthnKey:
    """Remove one of the account's keys; the last second factor goes only by disabling 2FA."""
    with transaction.atomic():
        locked, _ = state.lock(account)
        key = get_key(locked, pk)
        if removes_last_factor(locked):
            raise Refused("last_factor", LAST_FACTOR)
        _remove_key_row(locked, key, request=request)
    return key


def disable_with_key(
    account: Account, raw: object, *, session, rp: RelyingParty, now: datetime, request=None
) -> None:
    """Turn 2FA off (app, keys, recovery codes) when one of the account's keys signs for it."""

    def turn_off(locked: Account) -> None:
        services.turn_off(locked)
        audit.record(AuditEvent.TWO_FACTOR_DISABLED, actor=locked, request=request, method="key")
        web_sessions.end_other_sessions(locked, reason="2fa_disabled", request=request)

    verify_key(
        account,
        raw,
        purpose=DISABLE,
        session=session,
        rp=rp,
        now=now,
        request=request,
        on_success=turn_off,
    )


def regenerate_with_key(
    account: Account, raw: object, *, session, rp: RelyingParty, now: datetime, request=None
) -> list[str]:
    """New recovery codes, confirmed with one of the account's keys.

    The answer is checked and spent first (a refused one costs no hashing); the new set is then
    saved under the account's lock, as after a code (twofactor.services).
    """
    accepted = verify_key(
        account, raw, purpose=REGENERATE, session=session, rp=rp, now=now, request=request
    )
    return services.save_new_recovery_codes(account, accepted, request=request)
