"""The rules of two-factor authentication (SPEC §4, §5): the verbs that change its state.

The only writer of twofactor tables, with the helpers of its own modules (totp: arithmetic,
recovery: recovery codes, state: the failure streak and the wait). Every check-and-update runs
inside one transaction that first locks the account's row, so any number of requests on any
number of processes behave as if they came one by one. A refusal that must be remembered (a
failure, the wait that follows) is committed before the Refused exception leaves the service.

Code outside twofactor/ asks twofactor.interface, not this module.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from adminpanel import audit, crypto
from adminpanel.accounts import web_sessions
from adminpanel.accounts.models import Account
from adminpanel.accounts.tokens import revoke_tokens
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.twofactor import recovery, state, totp
from adminpanel.twofactor.models import CodeState, PendingSetup, TotpDevice, WebAuthnKey

MAX_INPUT = 100

MALFORMED = "Enter the 6-digit code from your authenticator app."
MALFORMED_OR_RECOVERY = "Enter the 6-digit code from your authenticator app, or a recovery code."
NOT_ENABLED = "Two-factor authentication is not enabled."
ALREADY_ENABLED = "Two-factor authentication is already enabled."
NO_APP = "This account has no authenticator app. Use your security key or a recovery code."
# What an account with security keys and no app is told when its answer is not a code's shape.
KEY_OR_RECOVERY = "Use your security key, or enter one of your recovery codes."
REGENERATE_WITH_KEY = "This account has no authenticator app: confirm with your security key."
NO_APP_TO_CHANGE = "This account has no authenticator app."
ONLY_FACTOR = (
    "The authenticator app is this account's only second factor, so it cannot be removed: "
    "Replace it with a new phone's app, or add a security key first."
)


@dataclass(frozen=True)
class Verdict:
    """An accepted code: which kind, and how many recovery codes are left."""

    kind: str  # "totp", "recovery" or "key"
    recovery_codes_left: int | None = None  # counted only when a recovery code was used


# --- input -------------------------------------------------------------------------------


def normalize(raw: object, *, allow_recovery: bool = True) -> tuple[str, str]:
    """("totp", "123456") or ("recovery", "0123…") from what a person typed.

    Spaces and dashes inside are ignored; only ASCII digits make a TOTP code. Anything else
    raises Refused("malformed"), which never counts as a failed attempt.
    """
    message = MALFORMED_OR_RECOVERY if allow_recovery else MALFORMED
    if not isinstance(raw, str) or len(raw) > MAX_INPUT:
        raise Refused("malformed", message)
    compact = re.sub(r"[ \-]", "", raw.strip())
    if re.fullmatch(r"[0-9]{6}", compact):
        return "totp", compact
    value = recovery.as_recovery_code(compact) if allow_recovery else None
    if value is None:
        raise Refused("malformed", message)
    return "recovery", value


# --- the locked check ----------------------------------------------------------------------


def _device(account: Account) -> TotpDevice | None:
    return TotpDevice.objects.filter(account=account).first()


def has_app(account: Account) -> bool:
    return TotpDevice.objects.filter(account=account).exists()


def has_keys(account: Account) -> bool:
    return WebAuthnKey.objects.filter(account=account).exists()


def keys_only(account: Account) -> bool:
    """Security keys and no authenticator app: no six-digit code can answer for it."""
    return not has_app(account) and has_keys(account)


def _normalize_for(account: Account, raw: object) -> tuple[str, str]:
    """normalize(), whose message names what this account can answer with."""
    try:
        return normalize(raw)
    except Refused as refused:
        if keys_only(account):  # asked only for a malformed answer: costs nothing otherwise
            refused.message = KEY_OR_RECOVERY
        raise


def _check(
    account: Account, code_state: CodeState, kind: str, value: str, now: datetime, context: dict
) -> Verdict | Refused:
    """Check a normalized code against the locked account; record the outcome."""
    refusal = state.waiting(code_state, now, context)  # refused unchecked; not counted
    if refusal is not None:
        return refusal
    device = _device(account)
    keys = device is None and has_keys(account)  # recovery codes came with the keys
    if device is None and kind == "totp" and keys:
        return Refused("no_app", NO_APP)
    if device is None and not keys:
        return Refused("not_enabled", NOT_ENABLED)
    if kind == "totp":
        if state.locked_out(code_state):
            return Refused(
                "locked",
                "Too many failed attempts: only a recovery code can unlock this account now.",
            )
        key = crypto.decrypt(device.encrypted_key)
        try:
            step = totp.match_step(key, value, now, code_state.last_step)
        except Refused as rejection:
            return state.fail(code_state, rejection, now, **context)
        state.succeed(code_state, step)
        return Verdict("totp")
    if recovery.use(account, value, now):
        state.succeed(code_state, None)
        left = recovery.left(account)
        audit.record(AuditEvent.TWO_FACTOR_RECOVERY_CODE_USED, codes_left=left, **context)
        return Verdict("recovery", left)
    return state.fail(code_state, Refused("invalid", totp.INVALID), now, **context)


def _context(account: Account, request, purpose: str) -> dict:
    return {"actor": account, "request": request, "purpose": purpose}


# --- public services ---------------------------------------------------------------------


def verify_code(
    account: Account, raw: object, *, now: datetime, request=None, purpose: str = "login"
) -> Verdict:
    """Accept a current TOTP code or an unused recovery code for this account, once."""
    kind, value = _normalize_for(account, raw)
    with transaction.atomic():
        locked, code_state = state.lock(account)
        outcome = _check(locked, code_state, kind, value, now, _context(locked, request, purpose))
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


def app_added_at(account: Account) -> datetime | None:
    """When the account's authenticator app was set up (or last replaced); None without one."""
    device = _device(account)
    return device.created_at if device is not None else None


def start_setup(
    account: Account, *, now: datetime, request=None, replace: bool = False
) -> PendingSetup:
    """A new pending setup with a fresh 160-bit key, replacing any earlier one.

    replace=True: the setup of a new app for an account that has one (replace_app confirms it);
    else the account must have none.
    """
    with transaction.atomic():
        locked, _ = state.lock(account)
        if replace and _device(locked) is None:
            raise Refused("no_app", NO_APP_TO_CHANGE)
        if not replace and _device(locked) is not None:
            raise Refused("already_enabled", ALREADY_ENABLED)
        PendingSetup.objects.filter(account=locked).delete()
        setup = PendingSetup.objects.create(
            account=locked,
            encrypted_key=crypto.encrypt(totp.new_key()),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.PENDING_SETUP_SECONDS),
        )
        details = {"replacing": True} if replace else {}
        audit.record(AuditEvent.TWO_FACTOR_SETUP_STARTED, actor=locked, request=request, **details)
    return setup


def pending_setup(account: Account) -> PendingSetup | None:
    return PendingSetup.objects.filter(account=account).first()


def setup_key(setup: PendingSetup) -> str:
    """The base32 key of a pending setup, for its QR code and manual entry only."""
    return crypto.decrypt(setup.encrypted_key)


def _confirmable(
    account: Account,
    setup_id: object,
    value: str,
    now: datetime,
    last_step: int | None,
    *,
    replacing: bool = False,
) -> tuple[PendingSetup, int]:
    """The pending setup this code confirms and the code's step; else Refused."""
    if replacing and _device(account) is None:
        raise Refused("no_app", NO_APP_TO_CHANGE)
    if not replacing and _device(account) is not None:
        raise Refused("already_enabled", ALREADY_ENABLED)
    setup = PendingSetup.objects.filter(account=account).first()
    if setup is None or str(setup.pk) != str(setup_id):
        raise Refused(
            "replaced",
            "This QR code was replaced by a newer setup. Use the newest QR code.",
        )
    if setup.expires_at <= now:
        raise Refused("expired", "This setup has expired. Get a new QR code to try again.")
    return setup, totp.match_step(setup_key(setup), value, now, last_step)


def confirm_setup(
    account: Account, setup_id: object, raw: object, *, now: datetime, request=None
) -> list[str]:
    """Turn the newest pending setup into the account's device when the code verifies.

    Returns the 10 recovery codes, to be shown once. Failures here are not counted: the
    person is looking at the key. Enabling 2FA ends the account's API tokens.
    An account that has security keys already keeps its recovery codes: [] is returned.
    """
    _, value = normalize(raw, allow_recovery=False)
    # A first look without the lock, so that a wrong code costs no recovery-code hashing.
    _confirmable(account, setup_id, value, now, state.last_step(account))
    codes, hashes = recovery.new_codes()
    with transaction.atomic():
        locked, code_state = state.lock(account)
        setup, step = _confirmable(locked, setup_id, value, now, code_state.last_step)  # decides
        first = not has_keys(locked)  # the first second factor of either kind brings the codes
        TotpDevice.objects.create(account=locked, encrypted_key=setup.encrypted_key, created_at=now)
        setup.delete()
        state.succeed(code_state, step)
        if not first:
            audit.record(AuditEvent.TWO_FACTOR_APP_ADDED, actor=locked, request=request)
            return []
        recovery.store(locked, hashes)
        audit.record(AuditEvent.TWO_FACTOR_ENABLED, actor=locked, request=request)
        # A session from before 2FA must not keep access it never proved (SPEC §12).
        web_sessions.end_other_sessions(locked, reason="2fa_enabled", request=request)
        revoke_tokens(locked, "two_factor_enabled", request=request)
    return recovery.formatted(codes)


def replace_app(
    account: Account, setup_id: object, raw: object, *, now: datetime, request=None
) -> None:
    """Give the account's authenticator app the key of the newest pending setup, when a code
    from the new app verifies (failures not counted, as in confirm_setup).

    The old key stops working in this transaction (a lost phone's codes are refused from now
    on); security keys and recovery codes stay. Other sessions end: one may be on that phone.
    """
    _, value = normalize(raw, allow_recovery=False)
    with transaction.atomic():
        locked, code_state = state.lock(account)
        setup, step = _confirmable(
            locked, setup_id, value, now, code_state.last_step, replacing=True
        )
        TotpDevice.objects.filter(account=locked).update(
            encrypted_key=setup.encrypted_key, created_at=now
        )
        setup.delete()
        state.succeed(code_state, step)
        audit.record(AuditEvent.TWO_FACTOR_APP_REPLACED, actor=locked, request=request)
        web_sessions.end_other_sessions(locked, reason="2fa_app_replaced", request=request)


def remove_app(account: Account, *, request=None) -> None:
    """Remove the authenticator app of an account whose security keys remain (2FA stays on,
    with its recovery codes). The only second factor is removed by disable() instead."""
    with transaction.atomic():
        locked, _ = state.lock(account)
        if _device(locked) is None:
            raise Refused("no_app", NO_APP_TO_CHANGE)
        if not has_keys(locked):
            raise Refused("only_factor", ONLY_FACTOR)
        TotpDevice.objects.filter(account=locked).delete()
        PendingSetup.objects.filter(account=locked).delete()
        audit.record(AuditEvent.TWO_FACTOR_APP_REMOVED, actor=locked, request=request)
        web_sessions.end_other_sessions(locked, reason="2fa_app_removed", request=request)


def turn_off(locked: Account) -> None:
    """No app, no security keys, no recovery codes: 2FA is off. Under the account's lock."""
    TotpDevice.objects.filter(account=locked).delete()
    WebAuthnKey.objects.filter(account=locked).delete()
    recovery.remove(locked)


def disable(account: Account, raw: object, *, now: datetime, request=None) -> None:
    """Remove every factor and the recovery codes when a current or recovery code verifies."""
    kind, value = _normalize_for(account, raw)
    with transaction.atomic():
        locked, code_state = state.lock(account)
        context = _context(locked, request, "disable")
        outcome = _check(locked, code_state, kind, value, now, context)
        if isinstance(outcome, Verdict):
            turn_off(locked)
            audit.record(AuditEvent.TWO_FACTOR_DISABLED, actor=locked, request=request)
            web_sessions.end_other_sessions(locked, reason="2fa_disabled", request=request)
    if isinstance(outcome, Refused):
        raise outcome


def regenerate_recovery_codes(
    account: Account, raw: object, *, now: datetime, request=None
) -> list[str]:
    """A new set of 10 recovery codes, confirmed with a current code of the account's app.

    The code is checked (and spent) first, so a wrong or throttled attempt costs no hashing.
    An account without an app confirms with a key instead (twofactor.webauthn).
    """
    if keys_only(account):
        raise Refused("no_app", REGENERATE_WITH_KEY)
    _, value = normalize(raw, allow_recovery=False)
    with transaction.atomic():
        locked, code_state = state.lock(account)
        context = _context(locked, request, "regenerate")
        outcome = _check(locked, code_state, "totp", value, now, context)
    if isinstance(outcome, Refused):
        raise outcome
    return save_new_recovery_codes(account, outcome, request=request)


def save_new_recovery_codes(account: Account, accepted: Verdict, *, request=None) -> list[str]:
    """Replace the recovery codes, once the person's answer (`accepted`) was checked and spent.

    The new set is hashed outside the lock and saved under it, if 2FA is still on: the old set
    dies only when the new one is saved.
    """
    codes, hashes = recovery.new_codes()
    with transaction.atomic():
        locked, _ = state.lock(account)
        if not (has_app(locked) or has_keys(locked)):
            raise Refused("not_enabled", NOT_ENABLED)
        recovery.store(locked, hashes)
        audit.record(
            AuditEvent.TWO_FACTOR_RECOVERY_CODES_REGENERATED,
            actor=locked,
            request=request,
            method=accepted.kind,
        )
    return recovery.formatted(codes)


def reset(
    account: Account, *, actor: Account | None = None, request=None, actor_name: str = ""
) -> None:
    """The Admin's or operator's way back in: no app, no keys, no codes, no failure streak."""
    with transaction.atomic():
        locked, code_state = state.lock(account)
        turn_off(locked)
        PendingSetup.objects.filter(account=locked).delete()
        state.forgive(code_state)
        audit.record(
            AuditEvent.TWO_FACTOR_RESET,
            actor=actor,
            about_account=locked,
            actor_name=actor_name,
            request=request,
            account=locked.username,
        )
        web_sessions.end_other_sessions(locked, reason="2fa_reset", request=request, actor=actor)
