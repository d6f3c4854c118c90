"""The web and API login, one service per step (SPEC §3, §5, §6, §11): the password step, the
pending second step, the pop-up's answers (a code, a security key), a passkey, logout. Each step
that completes a login owns its transaction (complete_login), so a view calls one service.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.crypto import constant_time_compare

from adminpanel import audit, clock, sessions
from adminpanel.accounts import access, guessing, web_sessions
from adminpanel.accounts.models import Account
from adminpanel.accounts.passwords import MAX_PASSWORD_LENGTH
from adminpanel.audit.catalogue import LOGIN_EVENTS, AuditEvent
from adminpanel.errors import Refused
from adminpanel.net import client_ip
from adminpanel.twofactor import interface as twofactor

INVALID_CREDENTIALS = "Invalid username or password."


def _throttled(refusal: guessing.TooManyAttempts, channel: str, account, request) -> Refused:
    if refusal.first:  # once per window or wait: a flood of refused attempts adds no rows
        audit.record(
            LOGIN_EVENTS[channel].throttled,
            request=request,
            actor=account,
            account="known" if account else "unknown",
            scope=refusal.scope,
        )
    return Refused("too_many_attempts", refusal.message, retry_after=refusal.retry_after)


def check_password_step(
    username: object, password: object, *, ip: str, channel: str, now: datetime, request=None
) -> Account:
    """The account whose password this is, or Refused (one message for both mistakes).

    channel is "web" or "api": each refuses accounts without access to it (accounts.access,
    like every other request), but only after the right password from an allowed address.
    Every attempt is counted (accounts.guessing) before any password is hashed. Until then
    the answer is the same for every name, real or invented (SPEC §3, §6): "invalid
    credentials", or "too many attempts" once the address's window is spent or the name's
    streak waits (the account's, or the name's own: accounts.guessing); the real reason goes
    to the log only.
    """
    if not isinstance(username, str) or not isinstance(password, str):
        raise Refused("invalid_credentials", INVALID_CREDENTIALS)
    name = username.strip().lower()[:150]
    if not name or not password or len(password) > MAX_PASSWORD_LENGTH or "\x00" in name:
        raise Refused("invalid_credentials", INVALID_CREDENTIALS)
    guessing.purge_expired(now)
    sessions.purge_expired()  # sessions nobody came back to end go as logins go by
    account = Account.objects.filter(username__iexact=name).first()
    outside = account is not None and access.ip_refusal(account, ip) is not None
    try:
        # Guesses from outside the allowed IPs cannot log in: they never make the owner wait.
        guessing.take_slots(ip, None if outside else account, now, name=name)
    except guessing.TooManyAttempts as refusal:
        raise _throttled(refusal, channel, account, request) from None
    if account is None:
        make_password(password)  # the same work as a real check, so timing tells nothing
        # What was typed is not logged: it may be a password entered in the wrong field.
        audit.record(LOGIN_EVENTS[channel].failed, request=request, account="unknown")
        raise Refused("invalid_credentials", INVALID_CREDENTIALS)
    right = account.check_password(password) and account.is_active
    if not right:
        audit.record(LOGIN_EVENTS[channel].failed, request=request, actor=account)
        raise Refused("invalid_credentials", INVALID_CREDENTIALS)
    if outside:
        # Answered like a wrong password, so outsiders can test neither guesses nor names;
        # the log tells the Admin it was the right one, and why it was refused.
        audit.record(
            LOGIN_EVENTS[channel].refused, request=request, actor=account, reason="ip_not_allowed"
        )
        raise Refused("invalid_credentials", INVALID_CREDENTIALS)
    guessing.release_slots(account, ip)
    refusal = access.channel_refusal(account, channel)
    if refusal is not None:
        audit.record(
            LOGIN_EVENTS[channel].refused, request=request, actor=account, reason=refusal.reason
        )
        raise refusal
    return account


def needs_second_step(account: Account) -> bool:
    """A login of this account is complete only after its second factor (SPEC §3, §6)."""
    return twofactor.is_enabled(account)


def record_login(account: Account, *, request=None, with_2fa: bool, channel: str = "web") -> None:
    audit.record(
        LOGIN_EVENTS[channel].succeeded, actor=account, request=request, two_factor=with_2fa
    )


def record_logout(account: Account, *, request=None) -> None:
    audit.record(AuditEvent.WEB_LOGOUT, actor=account, request=request)


# --- the pending second step of a web login ----------------------------------------------

PENDING_KEY = "pending_login"
PENDING_ENDED = "This sign-in was ended. Enter your username and password again."


def _not_completed(pending: dict, reason: str, request) -> None:
    """A right password was followed by no accepted second factor (SPEC §8, finding 7).

    Observed when the same browser comes back after the 5 minutes (expired), presses Cancel
    (cancelled), types a password again (restarted), or after the password changed or the
    account's other sessions were signed out (signed_out). A visitor who never comes back leaves
    `web_login_password_accepted` without a `web_login` after it in the log.
    """
    account = Account.objects.filter(pk=pending.get("account")).first()
    audit.record(
        AuditEvent.WEB_LOGIN_TWO_FACTOR_NOT_COMPLETED, actor=account, request=request, reason=reason
    )


def begin_pending_login(
    session, account: Account, *, next_url: str, now: datetime, request=None
) -> None:
    """Remember that the password step passed. The visitor is not logged in yet."""
    earlier = session.get(PENDING_KEY)
    if earlier:
        _not_completed(earlier, "restarted", request)
    session.cycle_key()  # a new id, so a planted session id cannot ride on the login
    session[PENDING_KEY] = {
        "account": account.pk,
        "at": now.timestamp(),
        "next": next_url,
        # Bound like a Django session: a new password or "Sign out all other sessions" ends it.
        "password": account.get_session_auth_hash(),
        "sign_outs": account.sign_outs,
    }
    audit.record(
        AuditEvent.WEB_LOGIN_PASSWORD_ACCEPTED, actor=account, request=request, next_step="2fa"
    )


def pending_login(
    session, *, now: datetime, pending_seconds: int, request=None
) -> tuple[Account, str] | None:
    """(account, next URL) of a live pending login; expired or gone ones are cleared, and so
    are ones begun before the password changed or the account's sessions were signed out
    (Refused, as for an expired one)."""
    pending = session.get(PENDING_KEY)
    if not pending:
        return None
    if now.timestamp() - pending["at"] > pending_seconds:
        del session[PENDING_KEY]
        _not_completed(pending, "expired", request)
        raise Refused("pending_expired", "The sign-in took too long. Enter your password again.")
    account = Account.objects.filter(pk=pending["account"], is_active=True).first()
    if account is None:
        del session[PENDING_KEY]
        return None
    if pending.get("sign_outs") != account.sign_outs or not constant_time_compare(
        pending.get("password", ""), account.get_session_auth_hash()
    ):
        del session[PENDING_KEY]
        _not_completed(pending, "signed_out", request)
        raise Refused("pending_ended", PENDING_ENDED)
    return account, pending["next"]


def cancel_pending_login(session, *, request=None) -> None:
    """The second step is over: done (verified), or given up by the visitor (request given)."""
    pending = session.pop(PENDING_KEY, None)
    if pending and request is not None:
        _not_completed(pending, "cancelled", request)


# --- the steps a view calls: each completes a login in one transaction ------------------------


def complete_login(
    request, account: Account, *, with_2fa: bool, recovery_codes_left: int | None = None
) -> None:
    """Log the browser in: the old session row goes, the login is logged, the new session row is
    written, in one transaction (one commit instead of three, each waiting for the database's
    disk), so a login is recorded whole or not at all."""
    with transaction.atomic():
        login(request, account)  # a new session id
        web_sessions.start(
            request,
            account,
            two_factor=with_2fa,
            now=clock.now(),
            recovery_codes_left=recovery_codes_left,
        )
        record_login(account, request=request, with_2fa=with_2fa)


def password_step(request, username: object, password: object, *, next_url: str) -> bool:
    """The login form's step: True when the login is complete, False when the second step is
    now pending (the pop-up). Raises Refused."""
    now = clock.now()
    account = check_password_step(
        username, password, ip=client_ip(request), channel="web", now=now, request=request
    )
    if not needs_second_step(account):
        complete_login(request, account, with_2fa=False)
        return True
    begin_pending_login(request.session, account, next_url=next_url, now=now, request=request)
    return False


def live_pending_login(request) -> tuple[Account, str] | None:
    """(account, next URL) of this browser's live pending login, or None; Refused when it
    expired or was ended since (the caller says so)."""
    return pending_login(
        request.session,
        now=clock.now(),
        pending_seconds=settings.PENDING_LOGIN_SECONDS,
        request=request,
    )


def complete_with_code(request, account: Account, answer: str) -> None:
    """The pop-up's Challenge (a code or a recovery code) completes the pending login."""
    verdict = twofactor.verify(account, answer, purpose="login", now=clock.now(), request=request)
    cancel_pending_login(request.session)
    complete_login(request, account, with_2fa=True, recovery_codes_left=verdict.recovery_codes_left)


def complete_with_key(request, account: Account, credential) -> None:
    """The pop-up's Use security key completes the pending login."""
    twofactor.verify_key(account, credential, purpose="login", now=clock.now(), request=request)
    cancel_pending_login(request.session)
    complete_login(request, account, with_2fa=True)


def sign_in_with_passkey(request, credential) -> None:
    """Sign in with a passkey: a discoverable key with user verification, no password."""
    account = twofactor.sign_in_with_passkey(
        credential,
        admit=access.passkey_admission(client_ip(request)),
        now=clock.now(),
        request=request,
    )
    cancel_pending_login(request.session)
    complete_login(request, account, with_2fa=True)


def log_out(request) -> None:
    """Log out: the session row goes, so the session ends on every instance."""
    if request.user.is_authenticated:
        record_logout(request.user, request=request)
        web_sessions.forget(request)
    logout(request)
