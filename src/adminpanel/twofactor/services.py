"""The rules of two-factor authentication (SPEC §4, §5). The only writer of twofactor tables.

Every check-and-update runs inside one transaction that first locks the account's row, so
any number of requests on any number of processes behave as if they came one by one.
A rejection that must be remembered (a failure, the wait that follows) is committed before
the CodeRejected exception leaves the service.
"""

import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from pyotp.utils import strings_equal

from adminpanel import audit, crypto
from adminpanel.accounts import web_sessions
from adminpanel.accounts.models import Account
from adminpanel.twofactor.models import (
    CodeState,
    PendingSetup,
    RecoveryCode,
    TotpDevice,
    WebAuthnKey,
)

STEP_SECONDS = 30
ACCEPTED_STEPS = 1  # RFC 6238's allowance for delay: one step either side
DRIFT_STEPS = 10  # codes this far away are recognised as a clock that is off
THROTTLE_AFTER = 5
LOCK_AFTER = 100
FIRST_WAIT_SECONDS = 60
MAX_WAIT_SECONDS = 3600
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: 16 chars = 80 bits
RECOVERY_LENGTH = 16
MAX_INPUT = 100

MALFORMED = "Enter the 6-digit code from your authenticator app."
MALFORMED_OR_RECOVERY = "Enter the 6-digit code from your authenticator app, or a recovery code."
INVALID = "Invalid code."
REPLAYED = "This code has already been used. Wait for the next code."
NO_APP = "This account has no authenticator app. Use your security key or a recovery code."


class CodeRejected(Exception):
    """A code was not accepted; `message` is what the person is told."""

    def __init__(self, reason: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


class SetupError(Exception):
    retry_after = None

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Verdict:
    """An accepted code: which kind, and how many recovery codes are left."""

    kind: str  # "totp" or "recovery"
    recovery_codes_left: int | None = None  # counted only when a recovery code was used


# --- input -------------------------------------------------------------------------------


def normalize(raw: object, *, allow_recovery: bool = True) -> tuple[str, str]:
    """("totp", "123456") or ("recovery", "0123…") from what a person typed.

    Spaces and dashes inside are ignored; only ASCII digits make a TOTP code. Anything else
    raises CodeRejected("malformed"), which never counts as a failed attempt.
    """
    message = MALFORMED_OR_RECOVERY if allow_recovery else MALFORMED
    if not isinstance(raw, str) or len(raw) > MAX_INPUT:
        raise CodeRejected("malformed", message)
    compact = re.sub(r"[ \-]", "", raw.strip())
    if re.fullmatch(r"[0-9]{6}", compact):
        return "totp", compact
    if allow_recovery and len(compact) == RECOVERY_LENGTH:
        value = compact.lower().translate(str.maketrans("ilo", "110"))
        if all(c in RECOVERY_ALPHABET for c in value):
            return "recovery", value
    raise CodeRejected("malformed", message)


# --- the arithmetic ----------------------------------------------------------------------


def _step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _minutes(seconds: float) -> str:
    n = max(1, math.ceil(seconds / 60))
    return f"{n} minute" if n == 1 else f"{n} minutes"


def match_step(key: str, code: str, now: datetime, last_step: int | None) -> int:
    """The time step whose code this is, if it may be accepted now; else CodeRejected."""
    totp = pyotp.TOTP(key)  # SHA-1, 6 digits, 30-second step
    current = _step_of(now)
    for offset in sorted(range(-DRIFT_STEPS, DRIFT_STEPS + 1), key=abs):
        step = current + offset
        if step < 0:  # no step before the epoch (pyotp raises for a negative counter)
            continue
        if not strings_equal(totp.generate_otp(step), code):
            continue
        if abs(offset) > ACCEPTED_STEPS:
            raise CodeRejected(
                "clock_off",
                f"Your device's clock seems to be off by about {_minutes(abs(offset) * 30)}. "
                "Set it to update automatically, then try again.",
            )
        if last_step is not None and step <= last_step:
            raise CodeRejected("replayed", REPLAYED)
        return step
    raise CodeRejected("invalid", INVALID)


def wait_after(failures: int) -> int:
    """Seconds to wait after this many consecutive failures: 0, then 1 min doubling to 1 h."""
    if failures < THROTTLE_AFTER:
        return 0
    return min(FIRST_WAIT_SECONDS * 2 ** (failures - THROTTLE_AFTER), MAX_WAIT_SECONDS)


def throttled_message(seconds: float) -> str:
    return f"Too many failed attempts. Try again in {_minutes(seconds)}."


# --- locked state ------------------------------------------------------------------------


def _lock(account: Account) -> tuple[Account, CodeState]:
    """Lock the account's row (the one lock of ARCHITECTURE.md) and load its code state."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    state, _ = CodeState.objects.get_or_create(account=locked)
    return locked, state


def _device(account: Account) -> TotpDevice | None:
    return TotpDevice.objects.filter(account=account).first()


def _fail(state: CodeState, rejection: CodeRejected, now: datetime, **context) -> CodeRejected:
    """Count a failed attempt, start the wait it earns, and say so."""
    state.failures += 1
    wait = wait_after(state.failures)
    state.retry_at = now + timedelta(seconds=wait) if wait else None
    state.save(update_fields=["failures", "retry_at"])
    audit.record("2fa_failed", reason=rejection.reason, failures=state.failures, **context)
    if wait:
        rejection.message = f"{rejection.message} {throttled_message(wait)}"
        rejection.retry_after = wait
        audit.record("2fa_throttled", wait_seconds=wait, failures=state.failures, **context)
    return rejection


def _succeed(state: CodeState, step: int | None) -> None:
    if step is not None:
        state.last_step = step
    state.failures = 0
    state.retry_at = None
    state.save(update_fields=["last_step", "failures", "retry_at"])


def _waiting(state: CodeState, now: datetime, context: dict) -> CodeRejected | None:
    """The refusal while a wait runs: unchecked, and it does not lengthen the wait."""
    if state.retry_at is None or state.retry_at <= now:
        return None
    seconds = (state.retry_at - now).total_seconds()
    audit.record(
        "2fa_throttled",
        refused_unchecked=True,
        wait_seconds=math.ceil(seconds),
        failures=state.failures,
        **context,
    )
    return CodeRejected("throttled", throttled_message(seconds), math.ceil(seconds))


def _check(
    account: Account, state: CodeState, kind: str, value: str, now: datetime, context: dict
) -> Verdict | CodeRejected:
    """Check a normalized code against the locked account; record the outcome."""
    waiting = _waiting(state, now, context)
    if waiting is not None:
        return waiting
    device = _device(account)
    if device is None and not (kind == "recovery" and _has_keys(account)):
        if kind == "totp" and _has_keys(account):
            return CodeRejected("no_app", NO_APP)
        return CodeRejected("not_enabled", "Two-factor authentication is not enabled.")
    if kind == "totp":
        if state.failures >= LOCK_AFTER:
            return CodeRejected(
                "locked",
                "Too many failed attempts: only a recovery code can unlock this account now.",
            )
        try:
            step = match_step(crypto.decrypt(device.encrypted_key), value, now, state.last_step)
        except CodeRejected as rejection:
            return _fail(state, rejection, now, **context)
        _succeed(state, step)
        return Verdict("totp")
    for code in RecoveryCode.objects.filter(account=account, used_at__isnull=True):
        if check_password(value, code.code_hash):
            code.used_at = now
            code.save(update_fields=["used_at"])
            _succeed(state, None)
            left = _recovery_codes_left(account)
            audit.record("2fa_recovery_code_used", codes_left=left, **context)
            return Verdict("recovery", left)
    return _fail(state, CodeRejected("invalid", INVALID), now, **context)


def _recovery_codes_left(account: Account) -> int:
    return RecoveryCode.objects.filter(account=account, used_at__isnull=True).count()


def _context(account: Account, request, purpose: str) -> dict:
    return {"actor": account, "request": request, "purpose": purpose}


# --- public services ---------------------------------------------------------------------


def _has_keys(account: Account) -> bool:
    return WebAuthnKey.objects.filter(account=account).exists()


def has_app(account: Account) -> bool:
    return TotpDevice.objects.filter(account=account).exists()


def is_enabled(account: Account) -> bool:
    """2FA is on with an authenticator app, at least one security key, or both (SPEC §11)."""
    return has_app(account) or _has_keys(account)


def recovery_codes_left(account: Account) -> int:
    return _recovery_codes_left(account)


def verify_code(
    account: Account, raw: object, *, now: datetime, request=None, purpose: str = "login"
) -> Verdict:
    """Accept a current TOTP code or an unused recovery code for this account, once."""
    kind, value = normalize(raw)
    with transaction.atomic():
        locked, state = _lock(account)
        outcome = _check(locked, state, kind, value, now, _context(locked, request, purpose))
    if isinstance(outcome, CodeRejected):
        raise outcome
    return outcome


def start_setup(account: Account, *, now: datetime, request=None) -> PendingSetup:
    """A new pending setup with a fresh 160-bit key, replacing any earlier one."""
    with transaction.atomic():
        locked, _ = _lock(account)
        if _device(locked) is not None:
            raise SetupError("already_enabled", "Two-factor authentication is already enabled.")
        PendingSetup.objects.filter(account=locked).delete()
        setup = PendingSetup.objects.create(
            account=locked,
            encrypted_key=crypto.encrypt(pyotp.random_base32(length=32)),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.PENDING_SETUP_SECONDS),
        )
        audit.record("2fa_setup_started", actor=locked, request=request)
    return setup


def pending_setup(account: Account) -> PendingSetup | None:
    return PendingSetup.objects.filter(account=account).first()


def setup_key(setup: PendingSetup) -> str:
    """The base32 key of a pending setup, for its QR code and manual entry only."""
    return crypto.decrypt(setup.encrypted_key)


def _new_recovery_codes() -> tuple[list[str], list[str]]:
    """(codes to show once, their salted hashes). Hashing happens outside any lock."""
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    return codes, [make_password(code) for code in codes]


def _store_recovery_codes(account: Account, hashes: list[str]) -> None:
    RecoveryCode.objects.filter(account=account).delete()
    RecoveryCode.objects.bulk_create(RecoveryCode(account=account, code_hash=h) for h in hashes)


def format_recovery_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _confirmable(
    account: Account, setup_id: object, value: str, now: datetime, last_step: int | None
) -> tuple[PendingSetup, int]:
    """The pending setup this code confirms and the code's step; else SetupError/CodeRejected."""
    if _device(account) is not None:
        raise SetupError("already_enabled", "Two-factor authentication is already enabled.")
    setup = PendingSetup.objects.filter(account=account).first()
    if setup is None or str(setup.pk) != str(setup_id):
        raise SetupError(
            "replaced",
            "This QR code was replaced by a newer setup. Use the newest QR code.",
        )
    if setup.expires_at <= now:
        raise SetupError("expired", "This setup has expired. Get a new QR code to try again.")
    return setup, match_step(crypto.decrypt(setup.encrypted_key), value, now, last_step)


def confirm_setup(
    account: Account, setup_id: object, raw: object, *, now: datetime, request=None
) -> list[str]:
    """Turn the newest pending setup into the account's device when the code verifies.

    Returns the 10 recovery codes, to be shown once, when the app is the account's first
    second factor; an empty list when it has security keys already (their codes stay).
    Failures here are not counted: the person is looking at the key.
    """
    _, value = normalize(raw, allow_recovery=False)
    # A first look without the lock, so that a wrong code costs no recovery-code hashing.
    state = CodeState.objects.filter(account=account).first()
    _confirmable(account, setup_id, value, now, state.last_step if state else None)
    codes, hashes = _new_recovery_codes()
    with transaction.atomic():
        locked, state = _lock(account)
        setup, step = _confirmable(locked, setup_id, value, now, state.last_step)  # decides
        first = not _has_keys(locked)
        TotpDevice.objects.create(account=locked, encrypted_key=setup.encrypted_key, created_at=now)
        setup.delete()
        _succeed(state, step)
        if not first:
            audit.record("2fa_app_added", actor=locked, request=request)
            return []
        _store_recovery_codes(locked, hashes)
        audit.record("2fa_enabled", actor=locked, request=request)
        # A session from before 2FA must not keep access it never proved (SPEC §12).
        web_sessions.end_other_sessions(locked, reason="2fa_enabled", request=request)
        from adminpanel.api.services import revoke_tokens  # api imports this module

        revoke_tokens(locked, "two_factor_enabled", request=request)
    return [format_recovery_code(c) for c in codes]


def turn_off(locked: Account) -> None:
    """No app, no security keys, no recovery codes: 2FA is off. Under the account's lock."""
    TotpDevice.objects.filter(account=locked).delete()
    WebAuthnKey.objects.filter(account=locked).delete()
    RecoveryCode.objects.filter(account=locked).delete()


def disable(account: Account, raw: object, *, now: datetime, request=None) -> None:
    """Remove the device and recovery codes when a current or recovery code verifies."""
    kind, value = normalize(raw)
    with transaction.atomic():
        locked, state = _lock(account)
        context = _context(locked, request, "disable")
        outcome = _check(locked, state, kind, value, now, context)
        if isinstance(outcome, Verdict):
            turn_off(locked)
            audit.record("2fa_disabled", actor=locked, request=request)
            web_sessions.end_other_sessions(locked, reason="2fa_disabled", request=request)
    if isinstance(outcome, CodeRejected):
        raise outcome


def regenerate_recovery_codes(
    account: Account, raw: object, *, now: datetime, request=None
) -> list[str]:
    """A new set of 10 recovery codes; the old set dies only when the new one is saved.

    The code is checked (and spent) first, so a wrong or throttled attempt costs no hashing;
    the new set is hashed outside the lock and saved in a second transaction.
    """
    _, value = normalize(raw, allow_recovery=False)
    with transaction.atomic():
        locked, state = _lock(account)
        outcome = _check(locked, state, "totp", value, now, _context(locked, request, "regenerate"))
    if isinstance(outcome, CodeRejected):
        raise outcome
    codes, hashes = _new_recovery_codes()
    with transaction.atomic():
        locked, _ = _lock(account)
        if _device(locked) is None:
            raise CodeRejected("not_enabled", "Two-factor authentication is not enabled.")
        _store_recovery_codes(locked, hashes)
        audit.record("2fa_recovery_codes_regenerated", actor=locked, request=request)
    return [format_recovery_code(c) for c in codes]


def reset(
    account: Account, *, actor: Account | None = None, request=None, actor_name: str = ""
) -> None:
    """The Admin's or operator's way back in: no device, no codes, no failure streak."""
    with transaction.atomic():
        locked, state = _lock(account)
        turn_off(locked)
        PendingSetup.objects.filter(account=locked).delete()
        state.failures = 0
        state.retry_at = None
        state.save(update_fields=["failures", "retry_at"])
        audit.record(
            "2fa_reset",
            actor=actor,
            actor_name=actor_name,
            request=request,
            account=locked.username,
        )
        web_sessions.end_other_sessions(locked, reason="2fa_reset", request=request, actor=actor)
