"""The per-account code state under the one lock: replay step, failure streak and the wait.

Every function here runs inside the transaction of twofactor.services that locked the
account's row (ARCHITECTURE "Security state: one mechanism").
"""

import math
from datetime import datetime, timedelta

from adminpanel import audit, clock
from adminpanel.accounts.models import Account
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.twofactor.models import CodeState

THROTTLE_AFTER = 5
LOCK_AFTER = 100
FIRST_WAIT_SECONDS = 60
MAX_WAIT_SECONDS = 3600


def wait_after(failures: int) -> int:
    """Seconds to wait after this many consecutive failures: 0, then 1 min doubling to 1 h."""
    if failures < THROTTLE_AFTER:
        return 0
    return min(FIRST_WAIT_SECONDS * 2 ** (failures - THROTTLE_AFTER), MAX_WAIT_SECONDS)


def throttled_message(seconds: float) -> str:
    return f"Too many failed attempts. Try again in {clock.minutes(seconds)}."


def lock(account: Account) -> tuple[Account, CodeState]:
    """Lock the account's row (the one lock of ARCHITECTURE.md) and load its code state."""
    locked = Account.objects.locked(account)
    state, _ = CodeState.objects.get_or_create(account=locked)
    return locked, state


def last_step(account: Account) -> int | None:
    """The last accepted step, read without the lock (a first look only)."""
    state = CodeState.objects.filter(account=account).first()
    return state.last_step if state else None


def waiting(state: CodeState, now: datetime, context: dict) -> Refused | None:
    """The refusal of an attempt made during the wait (not checked, not counted), or None."""
    if state.retry_at is None or state.retry_at <= now:
        return None
    seconds = (state.retry_at - now).total_seconds()
    audit.record(
        AuditEvent.TWO_FACTOR_THROTTLED,
        refused_unchecked=True,
        wait_seconds=math.ceil(seconds),
        failures=state.failures,
        **context,
    )
    return Refused("throttled", throttled_message(seconds), math.ceil(seconds))


def locked_out(state: CodeState) -> bool:
    """After this many failures only a recovery code is accepted."""
    return state.failures >= LOCK_AFTER


def fail(state: CodeState, rejection: Refused, now: datetime, **context) -> Refused:
    """Count a failed attempt, start the wait it earns, and say so."""
    state.failures += 1
    wait = wait_after(state.failures)
    state.retry_at = now + timedelta(seconds=wait) if wait else None
    state.save(update_fields=["failures", "retry_at"])
    audit.record(
        AuditEvent.TWO_FACTOR_FAILED, reason=rejection.reason, failures=state.failures, **context
    )
    if wait:
        rejection.message = f"{rejection.message} {throttled_message(wait)}"
        rejection.retry_after = wait
        audit.record(
            AuditEvent.TWO_FACTOR_THROTTLED, wait_seconds=wait, failures=state.failures, **context
        )
    return rejection


def succeed(state: CodeState, step: int | None) -> None:
    """An accepted answer: remember its step (no replay) and end the failure streak."""
    if step is not None:
        state.last_step = step
    state.failures = 0
    state.retry_at = None
    state.save(update_fields=["last_step", "failures", "retry_at"])


def forgive(state: CodeState) -> None:
    """Reset 2FA: no failure streak and no wait (the last step stays: no replay)."""
    state.failures = 0
    state.retry_at = None
    state.save(update_fields=["failures", "retry_at"])
