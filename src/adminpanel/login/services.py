"""The web and API login, one service per step (SPEC §3, §5, §6, §11): the password step, the
pending second step, the pop-up's answers (a code, a security key), a passkey, logout. Each step
that completes a login owns its transaction (complete_login), so a view calls one service.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.crypto import constant_time_compare

from adminpanel import audit, clock, sessions
from adminpanel.accounts import guessing
from adminpanel.accounts.passwords import MAX_PASSWORD_LENGTH
from adminpanel.audit.catalogue import LOGIN_EVENTS, AuditEvent
from adminpanel.errors import Refused
from adminpanel.login.doors import ACCOUNTS, Door
from adminpanel.net import client_ip
from adminpanel.twofactor import interface as twofactor

INVALID_CREDENTIALS = ACCOUNTS.invalid


def _throttled(refusal: guessing.TooManyAttempts, channel: str, who, request) -> Refused:
    if refusal.first:  # once per window or wait: a flood of refused attempts adds no rows
        audit.record(
            LOGIN_EVENTS[channel].throttled,
            request=request,
            actor=who,
            account="known" if who else "unknown",
            scope=refusal.scope,
        )
    return Refused("too_many_attempts", refusal.message, retry_after=refusal.retry_after)


def check_password_step(
    username: object,
    password: object,
    *,
    ip: str,
    channel: str,
    now: datetime,
    request=None,
    door: Door = ACCOUNTS,
):
    """Whoever this password is of, at `door` (login.doors), or Refused (one message for both
    mistakes).

    channel is "web" or "api" for accounts (each refuses accounts without access to it, like
    every other request), the door's own for other kinds; but only after the right password
    from an allowed address. Every attempt is counted (accounts.guessing) before any password
    is hashed. Until then the answer is the same for every name, real or invented (SPEC §3,
    §6): "invalid credentials", or "too many attempts" once the address's window is spent or
    the name's streak waits; the real reason goes to the log only.
    """
    if not isinstance(username, str) or not isinstance(password, str):
        raise Refused("invalid_credentials", door.invalid)
    name = username.strip().lower()[: door.max_name]
    if not name or not password or len(password) > MAX_PASSWORD_LENGTH or "\x00" in name:
        raise Refused("invalid_credentials", door.invalid)
    guessing.purge_expired(now)
    sessions.purge_expired()  # sessions nobody came back to end go as logins go by
    who = door.find(name)
    outside = who is not None and door.outside(who, ip)
    try:
        door.take_slots(who, name, ip, now)
    except guessing.TooManyAttempts as refusal:
        raise _throttled(refusal, channel, who, request) from None
    if who is None:
        make_password(password)  # the same work as a real check, so timing tells nothing
        # What was typed is not logged: it may be a password entered in the wrong field.
        audit.record(LOGIN_EVENTS[channel].failed, request=request, account="unknown")
        raise Refused("invalid_credentials", door.invalid)
    if not door.check_password(who, password):
        audit.record(LOGIN_EVENTS[channel].failed, request=request, actor=who)
        raise Refused("invalid_credentials", door.invalid)
    if outside:
        # Answered like a wrong password, so outsiders can test neither guesses nor names;
        # the log tells the Admin it was the right one, and why it was refused.
        audit.record(
            LOGIN_EVENTS[channel].refused, request=request, actor=who, reason="ip_not_allowed"
        )
        raise Refused("invalid_credentials", door.invalid)
    door.release_slots(who, name, ip)
    refusal = door.refusal(who, channel)
    if refusal is not None:
        audit.record(
            LOGIN_EVENTS[channel].refused, request=request, actor=who, reason=refusal.reason
        )
        raise refusal
    return who


def needs_second_step(who) -> bool:
    """A login of this person is complete only after its second factor (SPEC §3, §6, §14)."""
    return twofactor.is_enabled(who)


def record_login(who, *, request=None, with_2fa: bool, channel: str = "web") -> None:
    audit.record(LOGIN_EVENTS[channel].succeeded, actor=who, request=request, two_factor=with_2fa)


# --- the pending second step of a web login ----------------------------------------------

PENDING_KEY = ACCOUNTS.pending_key
PENDING_ENDED = "This sign-in was ended. Enter your username and password again."


def _not_completed(pending: dict, reason: str, request, door: Door, who=None) -> None:
    """A right password was followed by no accepted second factor (SPEC §8, finding 7).

    Observed when the same browser comes back after the 5 minutes (expired), presses Cancel
    (cancelled), types a password again (restarted), or after the password changed or the
    person's other sessions were signed out (signed_out). A visitor who never comes back leaves
    `…_password_accepted` without a sign-in after it in the log.
    """
    who = who if who is not None else door.get(pending.get("who"))
    audit.record(
        AuditEvent.WEB_LOGIN_TWO_FACTOR_NOT_COMPLETED, actor=who, request=request, reason=reason
    )


def begin_pending_login(
    session, who, *, next_url: str, now: datetime, request=None, door: Door = ACCOUNTS
) -> None:
    """Remember that the password step passed. The visitor is not logged in yet."""
    earlier = session.get(door.pending_key)
    if earlier:
        _not_completed(earlier, "restarted", request, door)
    session.cycle_key()  # a new id, so a planted session id cannot ride on the login
    session[door.pending_key] = {
        "who": door.pk(who),
        "person": who.person_id,  # its lock, taken before it is read again (door.unread)
        "at": now.timestamp(),
        "next": next_url,
        # Bound like a Django session: a new password or "Sign out all other sessions" ends it.
        "binding": door.binding(who),
    }
    audit.record(
        AuditEvent.WEB_LOGIN_PASSWORD_ACCEPTED, actor=who, request=request, next_step="2fa"
    )


def pending_login(
    session,
    *,
    now: datetime,
    pending_seconds: int,
    request=None,
    door: Door = ACCOUNTS,
    unread: bool = False,
) -> tuple[object, str] | None:
    """(who, next URL) of a live pending login at `door`; expired or gone ones are cleared,
    and so are ones begun before the password changed or the person's sessions were signed
    out (Refused, as for an expired one).

    unread: `who` may be an Unread (people.kinds) that the second factor reads with its lock
    and then admits (or answers PENDING_GONE, or Refused as above), for a door that has one."""
    pending = session.get(door.pending_key)
    if not pending:
        return None
    if now.timestamp() - pending["at"] > pending_seconds:
        del session[door.pending_key]
        _not_completed(pending, "expired", request, door)
        raise Refused("pending_expired", "The sign-in took too long. Enter your password again.")
    if unread:
        found = door.unread(
            pending.get("who"), pending.get("person"), _admit(session, pending, request, door)
        )
        if found is not None:
            return found, pending["next"]
    who = door.get(pending.get("who"))
    if who is None:
        del session[door.pending_key]
        return None
    refusal = _ended(session, pending, who, request, door)
    if refusal is not None:
        raise refusal
    return who, pending["next"]


# The Refused of an Unread pending login whose person may no longer sign in (deleted,
# deactivated): as for no pending login, the visitor starts again at the password.
PENDING_GONE = "pending_gone"
# The refusals after which the visitor starts again at the password (the pending login is over).
PENDING_OVER = (PENDING_GONE, "pending_ended")


def _admit(session, pending: dict, request, door: Door):
    """Whether the pending login's person, read under its lock, may still answer."""

    def admit(who) -> Refused | None:
        if who is None:
            del session[door.pending_key]
            return Refused(PENDING_GONE, "")
        return _ended(session, pending, who, request, door)

    return admit


def _ended(session, pending: dict, who, request, door: Door) -> Refused | None:
    """Refused when the password changed or the sessions were signed out since the password
    step (the pending login is cleared and logged); None while it is still bound to them."""
    if constant_time_compare(pending.get("binding", ""), door.binding(who)):
        return None
    del session[door.pending_key]
    _not_completed(pending, "signed_out", request, door, who)
    return Refused("pending_ended", PENDING_ENDED)


def cancel_pending_login(session, *, request=None, door: Door = ACCOUNTS) -> None:
    """The second step is over: done (verified), or given up by the visitor (request given)."""
    pending = session.pop(door.pending_key, None)
    if pending and request is not None:
        _not_completed(pending, "cancelled", request, door)


# --- the steps a view calls: each completes a login in one transaction ------------------------


def complete_login(
    request,
    who,
    *,
    with_2fa: bool,
    recovery_codes_left: int | None = None,
    door: Door = ACCOUNTS,
) -> None:
    """Sign the browser in: the old session row goes, the login is logged, the new session row
    is written, in one transaction (one commit instead of three, each waiting for the
    database's disk), so a login is recorded whole or not at all.

    Called inside the second factor's check (complete_with_code), it joins that transaction
    without a savepoint: an error here undoes the check too, and the code is not spent."""
    with transaction.atomic(savepoint=False):
        door.start(request, who, with_2fa=with_2fa, codes_left=recovery_codes_left)
        record_login(who, request=request, with_2fa=with_2fa, channel=door.channel)


def password_step(
    request, username: object, password: object, *, next_url: str, door: Door = ACCOUNTS
) -> bool:
    """The login form's step: True when the login is complete, False when the second step is
    now pending (the pop-up). Raises Refused."""
    now = clock.now()
    who = check_password_step(
        username,
        password,
        ip=client_ip(request),
        channel=door.channel,
        now=now,
        request=request,
        door=door,
    )
    if not needs_second_step(who):
        complete_login(request, who, with_2fa=False, door=door)
        return True
    begin_pending_login(
        request.session, who, next_url=next_url, now=now, request=request, door=door
    )
    return False


def live_pending_login(
    request, door: Door = ACCOUNTS, *, unread: bool = False
) -> tuple[object, str] | None:
    """(who, next URL) of this browser's live pending login, or None; Refused when it expired
    or was ended since (the caller says so). unread: as for pending_login."""
    return pending_login(
        request.session,
        now=clock.now(),
        pending_seconds=settings.PENDING_LOGIN_SECONDS,
        request=request,
        door=door,
        unread=unread,
    )


def _signed_in_with(request, door: Door):
    """What an accepted second factor does, in its check's transaction (twofactor's `then`):
    the pending login ends and the browser is signed in. One commit for the check and the
    login, with the person's row locked throughout."""

    def sign_in(who, verdict) -> None:
        cancel_pending_login(request.session, door=door)
        complete_login(
            request,
            who,
            with_2fa=True,
            recovery_codes_left=verdict.recovery_codes_left,
            door=door,
        )

    return sign_in


def complete_with_code(request, who, answer: str, *, door: Door = ACCOUNTS) -> None:
    """The pop-up's Challenge (a code or a recovery code) completes the pending login (`who`
    from live_pending_login, Unread or not)."""
    twofactor.verify(
        who,
        answer,
        purpose="login",
        now=clock.now(),
        request=request,
        then=_signed_in_with(request, door),
    )


def complete_with_key(request, who, credential, *, door: Door = ACCOUNTS) -> None:
    """The pop-up's Use security key completes the pending login."""
    twofactor.verify_key(
        who,
        credential,
        purpose="login",
        now=clock.now(),
        request=request,
        then=_signed_in_with(request, door),
    )


def sign_in_with_passkey(request, credential, *, door: Door = ACCOUNTS) -> None:
    """Sign in with a passkey: a discoverable key with user verification, no password. The
    door admits only its own kind: an owner's passkey is unknown at /login, and the reverse."""
    who = twofactor.sign_in_with_passkey(
        credential,
        admit=door.passkey_admission(client_ip(request)),
        now=clock.now(),
        request=request,
    )
    door.forget_dead_sessions(who)
    cancel_pending_login(request.session, door=door)
    complete_login(request, who, with_2fa=True, door=door)


def log_out(request, *, door: Door = ACCOUNTS) -> None:
    """Log out: the session row goes, so the session ends on every instance."""
    door.sign_out(request)
    logout(request)  # flushes the session: whatever it held
