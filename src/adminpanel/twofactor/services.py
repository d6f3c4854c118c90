"""The rules of two-factor authentication (SPEC §4, §5, §11): the verbs that change its state.

The only writer of twofactor tables, with the helpers of its own modules (the factors: app,
keys, recovery; state: the failure streak and the wait). Every check-and-update runs inside one
transaction that first locks the person's row, so any number of requests on any number of
processes behave as if they came one by one. A refusal that must be remembered (a failure, the
wait that follows) is committed before the Refused exception leaves the service.

Every verb takes whoever signs in (people.kinds.SignsIn: an Account today); what follows a
change for that kind of person (its other sessions end...) is its kind's (people.kinds).
Code outside twofactor/ asks twofactor.interface, not this module.
"""

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from adminpanel import audit, crypto, prepared
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.people import kinds
from adminpanel.people.kinds import SignsIn, Unread
from adminpanel.people.models import Person
from adminpanel.twofactor import recovery, state, totp
from adminpanel.twofactor.app import APP
from adminpanel.twofactor.factors import Factor, Locked, Verdict
from adminpanel.twofactor.keys import KEYS
from adminpanel.twofactor.models import PendingSetup, TotpDevice
from adminpanel.twofactor.recovery import RECOVERY

# The kinds of second factor, in display order. Recovery codes are not one: they come with
# the first and go with the last, and answer in place of any.
FACTORS: tuple[Factor, ...] = (APP, KEYS)

MAX_INPUT = 100

MALFORMED = "Enter the 6-digit code from your authenticator app."
MALFORMED_OR_RECOVERY = "Enter the 6-digit code from your authenticator app, or a recovery code."
NOT_ENABLED = "Two-factor authentication is not enabled."
ALREADY_ENABLED = "Two-factor authentication is already enabled."
# What a person who cannot type a code is told when its answer is not a code's shape.
KEY_OR_RECOVERY = "Use your security key, or enter one of your recovery codes."
REGENERATE_WITH_KEY = "This account has no authenticator app: confirm with your security key."
NO_APP_TO_CHANGE = "This account has no authenticator app."
ONLY_FACTOR = (
    "The authenticator app is this account's only second factor, so it cannot be removed: "
    "Replace it with a new phone's app, or add a security key first."
)


# --- what a person has -----------------------------------------------------------------------


def factors_of(who: SignsIn) -> list[Factor]:
    """The kinds of second factor this person has, in display order; [] when 2FA is off."""
    return [factor for factor in FACTORS if factor.exists(who.person_id)]


def is_enabled(who: SignsIn) -> bool:
    """2FA is on when the person has at least one factor of any kind."""
    return any(factor.exists(who.person_id) for factor in FACTORS)


def can_type_code(who: SignsIn) -> bool:
    return any(f.can_type_code and f.exists(who.person_id) for f in FACTORS)


def cannot_type_code(who: SignsIn) -> bool:
    """2FA on with no factor that takes a typed code (security keys only)."""
    found = factors_of(who)
    return bool(found) and not any(f.can_type_code for f in found)


def what_disabling_removes(who: SignsIn) -> str:
    """E.g. "your authenticator app, your 2 security keys and all recovery codes"."""
    parts = []
    for factor in FACTORS:
        count = factor.count(who.person_id)
        if count:
            parts.append(factor.removal(count))
    return ", ".join(parts) + " and " + RECOVERY.removal(0)


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


def typed(who: SignsIn, raw: object) -> tuple[Factor, str]:
    """The factor a typed answer is for (the app or a recovery code) and its value; the
    message of a malformed one names what this person can answer with."""
    try:
        kind, value = normalize(raw)
    except Refused as refused:
        if cannot_type_code(who):  # asked only for a malformed answer: costs nothing otherwise
            refused.message = KEY_OR_RECOVERY
        raise
    return (APP if kind == "totp" else RECOVERY), value


# --- the locked check ----------------------------------------------------------------------


def lock(who: SignsIn | Unread) -> Locked | None:
    """Lock the person's row and read its code state and factors (state.lock); None only for
    an Unread whose person is gone."""
    return state.lock(who, FACTORS)


def context_for(who: SignsIn, request, purpose: str, factor: Factor) -> dict:
    context = {"actor": who, "request": request, "purpose": purpose}
    if factor.logged_as:
        context["method"] = factor.logged_as
    return context


def check(
    locked: Locked,
    factor: Factor,
    answer: object,
    *,
    purpose: str,
    now: datetime,
    context: dict,
) -> Verdict | Refused:
    """An answer for `factor`, checked against the locked person, in the one throttle of every
    kind; the outcome recorded."""
    code_state = locked.state
    refusal = state.waiting(code_state, now, context)  # refused unchecked; not counted
    if refusal is not None:
        return refusal
    if not locked.factors:
        return Refused("not_enabled", NOT_ENABLED)
    if factor in FACTORS and factor not in locked.factors and factor.missing() is not None:
        return factor.missing()
    if state.locked_out(code_state) and not factor.unlocks:
        return Refused("locked", state.LOCKED)
    try:
        verdict = factor.verify(locked, answer, purpose=purpose, now=now, context=context)
    except Refused as rejection:
        return state.fail(code_state, rejection, now, **context)
    state.succeed(code_state, verdict.step)
    return verdict


def verify(
    who: SignsIn | Unread,
    factor: Factor,
    answer: object,
    *,
    purpose: str,
    now: datetime,
    request=None,
    on_success: Callable[[Locked, Verdict], None] | None = None,
) -> Verdict:
    """Accept an answer for `factor` (normalized: typed(), or a keys.KeyAnswer) once, for
    `purpose`. on_success(locked, verdict) runs under the same lock and transaction (turning
    2FA off, completing a login; locked.who is whoever answered): an error in it undoes the
    check too. An Unread is read with the lock, and answers only if it admits itself."""
    with transaction.atomic():
        locked = lock(who)
        refusal = who.admit(locked and locked.who) if isinstance(who, Unread) else None
        # The check's writes and on_success's (the code state, a login's session and rows,
        # the audit row) go to the database as one statement before the commit.
        with prepared.together():
            if refusal is not None:
                outcome = refusal
            else:
                context = context_for(locked.who, request, purpose, factor)
                outcome = check(locked, factor, answer, purpose=purpose, now=now, context=context)
            if on_success is not None and isinstance(outcome, Verdict):
                on_success(locked, outcome)
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


def verify_code(
    who: SignsIn | Unread,
    raw: object,
    *,
    now: datetime,
    request=None,
    purpose: str = "login",
    on_success: Callable[[Locked, Verdict], None] | None = None,
) -> Verdict:
    """Accept a current TOTP code or an unused recovery code for this person, once."""
    factor, value = typed(who, raw)
    return verify(
        who, factor, value, purpose=purpose, now=now, request=request, on_success=on_success
    )


# --- 2FA turned on and off: the consequences, once -------------------------------------------


def turned_on(person: Person, who: SignsIn, hashes: list[str], *, request, **details) -> None:
    """The person's first second factor was just stored (under its lock): its recovery codes,
    the log line, and what its kind ends (other sessions, API tokens)."""
    recovery.store(person.pk, hashes)
    audit.record(AuditEvent.TWO_FACTOR_ENABLED, actor=who, request=request, **details)
    kinds.protection_changed(person, who, kinds.ENABLED, request=request)


def turn_off(person: Person) -> None:
    """No factor of any kind, no recovery codes: 2FA is off. Under the person's lock."""
    for factor in (*FACTORS, RECOVERY):
        factor.delete_all(person.pk)


def turned_off(person: Person, who: SignsIn, *, request, **details) -> None:
    """Disable 2FA (its answer was accepted): every factor goes, logged, and what its kind
    ends."""
    turn_off(person)
    audit.record(AuditEvent.TWO_FACTOR_DISABLED, actor=who, request=request, **details)
    kinds.protection_changed(person, who, kinds.DISABLED, request=request)


def _changed(person: Person, who: SignsIn, change: str, event: AuditEvent, *, request) -> None:
    """The app replaced or removed while 2FA stays on: logged, and its kind told."""
    audit.record(event, actor=who, request=request)
    kinds.protection_changed(person, who, change, request=request)


# --- the authenticator app ------------------------------------------------------------------


def app_added_at(who: SignsIn) -> datetime | None:
    """When the person's authenticator app was set up (or last replaced); None without one."""
    device = APP.device(who.person_id)
    return device.created_at if device is not None else None


def start_setup(
    who: SignsIn, *, now: datetime, request=None, replace: bool = False
) -> PendingSetup:
    """A new pending setup with a fresh 160-bit key, replacing any earlier one.

    replace=True: the setup of a new app for a person that has one (replace_app confirms it);
    else the person must have none.
    """
    with transaction.atomic():
        person = lock(who).person
        has_app = APP.exists(person.pk)
        if replace and not has_app:
            raise Refused("no_app", NO_APP_TO_CHANGE)
        if not replace and has_app:
            raise Refused("already_enabled", ALREADY_ENABLED)
        PendingSetup.objects.filter(person=person).delete()
        setup = PendingSetup.objects.create(
            person=person,
            encrypted_key=crypto.encrypt(totp.new_key()),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.PENDING_SETUP_SECONDS),
        )
        details = {"replacing": True} if replace else {}
        audit.record(AuditEvent.TWO_FACTOR_SETUP_STARTED, actor=who, request=request, **details)
    return setup


def pending_setup(who: SignsIn) -> PendingSetup | None:
    return PendingSetup.objects.filter(person_id=who.person_id).first()


def setup_key(setup: PendingSetup) -> str:
    """The base32 key of a pending setup, for its QR code and manual entry only."""
    return crypto.decrypt(setup.encrypted_key)


def _confirmable(
    person_id: int,
    setup_id: object,
    value: str,
    now: datetime,
    last_step: int | None,
    *,
    replacing: bool = False,
) -> tuple[PendingSetup, int]:
    """The pending setup this code confirms and the code's step; else Refused."""
    has_app = APP.exists(person_id)
    if replacing and not has_app:
        raise Refused("no_app", NO_APP_TO_CHANGE)
    if not replacing and has_app:
        raise Refused("already_enabled", ALREADY_ENABLED)
    setup = PendingSetup.objects.filter(person_id=person_id).first()
    if setup is None or str(setup.pk) != str(setup_id):
        raise Refused(
            "replaced",
            "This QR code was replaced by a newer setup. Use the newest QR code.",
        )
    if setup.expires_at <= now:
        raise Refused("expired", "This setup has expired. Get a new QR code to try again.")
    return setup, totp.match_step(setup_key(setup), value, now, last_step)


def confirm_setup(
    who: SignsIn, setup_id: object, raw: object, *, now: datetime, request=None
) -> list[str]:
    """Turn the newest pending setup into the person's device when the code verifies.

    Returns the 10 recovery codes, to be shown once. Failures here are not counted: the
    person is looking at the key. Turning 2FA on ends the person's API tokens.
    A person that has security keys already keeps its recovery codes: [] is returned.
    """
    _, value = normalize(raw, allow_recovery=False)
    # A first look without the lock, so that a wrong code costs no recovery-code hashing.
    _confirmable(who.person_id, setup_id, value, now, state.last_step(who.person_id))
    codes, hashes = recovery.new_codes()
    with transaction.atomic():
        locked = lock(who)
        person, code_state = locked.person, locked.state
        setup, step = _confirmable(person.pk, setup_id, value, now, code_state.last_step)
        first = not locked.factors  # the first second factor of any kind brings the codes
        TotpDevice.objects.create(person=person, encrypted_key=setup.encrypted_key, created_at=now)
        setup.delete()
        state.succeed(code_state, step)
        if not first:
            audit.record(AuditEvent.TWO_FACTOR_APP_ADDED, actor=who, request=request)
            return []
        turned_on(person, who, hashes, request=request)
    return recovery.formatted(codes)


def replace_app(
    who: SignsIn, setup_id: object, raw: object, *, now: datetime, request=None
) -> None:
    """Give the person's authenticator app the key of the newest pending setup, when a code
    from the new app verifies (failures not counted, as in confirm_setup).

    The old key stops working in this transaction (a lost phone's codes are refused from now
    on); security keys and recovery codes stay. Other sessions end: one may be on that phone.
    """
    _, value = normalize(raw, allow_recovery=False)
    with transaction.atomic():
        locked = lock(who)
        person, code_state = locked.person, locked.state
        setup, step = _confirmable(
            person.pk, setup_id, value, now, code_state.last_step, replacing=True
        )
        TotpDevice.objects.filter(person=person).update(
            encrypted_key=setup.encrypted_key, created_at=now
        )
        setup.delete()
        state.succeed(code_state, step)
        _changed(
            person, who, kinds.APP_REPLACED, AuditEvent.TWO_FACTOR_APP_REPLACED, request=request
        )


def remove_app(who: SignsIn, *, request=None) -> None:
    """Remove the authenticator app of a person whose other factors remain (2FA stays on,
    with its recovery codes). The only second factor is removed by disable() instead."""
    with transaction.atomic():
        locked = lock(who)
        person = locked.person
        if APP not in locked.factors:
            raise Refused("no_app", NO_APP_TO_CHANGE)
        if not any(f is not APP for f in locked.factors):
            raise Refused("only_factor", ONLY_FACTOR)
        APP.delete_all(person.pk)
        PendingSetup.objects.filter(person=person).delete()
        _changed(person, who, kinds.APP_REMOVED, AuditEvent.TWO_FACTOR_APP_REMOVED, request=request)


# --- turning off, recovery codes, reset ------------------------------------------------------


def disable(who: SignsIn, raw: object, *, now: datetime, request=None) -> None:
    """Remove every factor and the recovery codes when a current or recovery code verifies."""
    factor, value = typed(who, raw)
    verify(
        who,
        factor,
        value,
        purpose="disable",
        now=now,
        request=request,
        on_success=lambda locked, verdict: turned_off(locked.person, who, request=request),
    )


def regenerate_recovery_codes(
    who: SignsIn, raw: object, *, now: datetime, request=None
) -> list[str]:
    """A new set of 10 recovery codes, confirmed with a current code of the person's app.

    The code is checked (and spent) first, so a wrong or throttled attempt costs no hashing.
    A person without an app confirms with a key instead (key_services).
    """
    if cannot_type_code(who):
        raise Refused("no_app", REGENERATE_WITH_KEY)
    _, value = normalize(raw, allow_recovery=False)
    accepted = verify(who, APP, value, purpose="regenerate", now=now, request=request)
    return save_new_recovery_codes(who, accepted, request=request)


def save_new_recovery_codes(who: SignsIn, accepted: Verdict, *, request=None) -> list[str]:
    """Replace the recovery codes, once the person's answer (`accepted`) was checked and spent.

    The new set is hashed outside the lock and saved under it, if 2FA is still on: the old set
    dies only when the new one is saved.
    """
    codes, hashes = recovery.new_codes()
    with transaction.atomic():
        locked = lock(who)
        if not locked.factors:
            raise Refused("not_enabled", NOT_ENABLED)
        recovery.store(locked.person.pk, hashes)
        audit.record(
            AuditEvent.TWO_FACTOR_RECOVERY_CODES_REGENERATED,
            actor=who,
            request=request,
            method=accepted.kind,
        )
    return recovery.formatted(codes)


def reset(
    who: SignsIn,
    *,
    actor=None,
    request=None,
    actor_name: str = "",
    nothing_to_reset: Refused | None = None,
) -> None:
    """The Admin's or operator's way back in: no factor, no codes, no failure streak.
    `nothing_to_reset` is raised, unlogged and unmailed, when the person has no factor."""
    with transaction.atomic():
        locked = lock(who)
        if nothing_to_reset is not None and not locked.factors:
            raise nothing_to_reset  # checked under the lock: of two resets at once, one is done
        person = locked.person
        turn_off(person)
        PendingSetup.objects.filter(person=person).delete()
        state.forgive(locked.state)
        audit.record(
            AuditEvent.TWO_FACTOR_RESET,
            actor=actor,
            about_account=who,
            actor_name=actor_name,
            request=request,
            account=who.username,
        )
        kinds.protection_changed(person, who, kinds.RESET, request=request, actor=actor)
