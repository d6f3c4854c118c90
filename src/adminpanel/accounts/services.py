"""Accounts and the password step of a login (SPEC §2, §3, §5)."""

import secrets
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.crypto import constant_time_compare

from adminpanel import audit, clock, sessions
from adminpanel.accounts import access, guessing, web_sessions
from adminpanel.accounts.models import Account
from adminpanel.accounts.passwords import MAX_PASSWORD_LENGTH
from adminpanel.api.tokens import revoke_tokens
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
    credentials", or "too many attempts" once the address's window is spent; the real reason
    goes to the log only.
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
        guessing.take_slots(ip, None if outside else account, now)
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


def ensure_admin(username: str, password: str | None) -> tuple[Account, str | None]:
    """Create the Admin on first start. Returns (admin, generated password or None)."""
    existing = Account.objects.filter(is_owner=True).first()
    if existing is not None:
        return existing, None
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(15)
    with transaction.atomic():
        admin = Account.objects.create_user(
            username=username, password=password, is_owner=True, web_access=True, api_access=True
        )
        audit.record(AuditEvent.ADMIN_CREATED, actor=admin)
    return admin, generated


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


NOT_CURRENT_PASSWORD = "This is not your current password."  # noqa: S105 - a message


def change_own_password(account: Account, old: str, new: str, *, request=None) -> None:
    """A logged-in account sets a new password (the form has checked the new one), or Refused
    when `old` is not the current one: counted like a login's attempts, so this page is no
    unlimited way to test guesses from a stolen session."""
    ip = client_ip(request) if request is not None else ""
    try:
        right = guessing.check_again(account, old, ip=ip, now=clock.now())
    except guessing.TooManyAttempts as refusal:
        if refusal.first:
            audit.record(AuditEvent.PASSWORD_CHANGE_THROTTLED, actor=account, request=request)
        raise Refused("too_many_attempts", refusal.message, refusal.retry_after) from None
    if not right:
        audit.record(AuditEvent.PASSWORD_CHANGE_FAILED, actor=account, request=request)
        raise Refused("invalid_credentials", NOT_CURRENT_PASSWORD)
    with transaction.atomic():
        account.set_password(new)
        account.save(update_fields=["password"])
        audit.record(AuditEvent.PASSWORD_CHANGED, actor=account, request=request)
        web_sessions.end_other_sessions(account, reason="password_changed", request=request)
        revoke_tokens(account, "password_changed", request=request)
