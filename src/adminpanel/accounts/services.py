"""Accounts and the password step of a login (SPEC §2, §3, §5)."""

import math
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction

from adminpanel import audit, clock
from adminpanel.accounts import access
from adminpanel.accounts.models import Account, PasswordAttempts
from adminpanel.accounts.passwords import MAX_PASSWORD_LENGTH
from adminpanel.api.tokens import revoke_tokens
from adminpanel.errors import Refused
from adminpanel.twofactor import interface as twofactor

PASSWORD_FAILURES_ALLOWED = 10
PASSWORD_WINDOW = timedelta(minutes=15)

INVALID_CREDENTIALS = "Invalid username or password."


def _locked_attempts(username: str, ip: str, now: datetime) -> PasswordAttempts:
    """The (username, IP) row, created if missing and locked until the transaction ends.

    INSERT … ON CONFLICT DO NOTHING, then SELECT … FOR UPDATE: two first attempts at once
    never race to insert (get_or_create's IntegrityError path re-read a row that a login had
    just deleted, and answered 500). Logins reset the row instead of deleting it.
    """
    PasswordAttempts.objects.bulk_create(
        [PasswordAttempts(username=username, ip=ip, window_started=now)], ignore_conflicts=True
    )
    return PasswordAttempts.objects.select_for_update().get(username=username, ip=ip)


def _take_password_slot(username: str, ip: str, now: datetime) -> None:
    """Reserve one attempt in the (username, IP) window before any password is hashed.

    Reserving first means concurrent guesses cannot all slip past the check together.
    """
    with transaction.atomic():
        attempts = _locked_attempts(username, ip, now)
        if attempts.window_started + PASSWORD_WINDOW <= now:
            attempts.failures = 0
            attempts.window_started = now
        if attempts.failures >= PASSWORD_FAILURES_ALLOWED:
            seconds = (attempts.window_started + PASSWORD_WINDOW - now).total_seconds()
            raise Refused(
                "too_many_attempts",
                f"Too many attempts. Try again in {clock.minutes(seconds)}.",
                retry_after=math.ceil(seconds),
            )
        attempts.failures += 1
        attempts.save(update_fields=["failures", "window_started"])


def _release_password_slots(username: str, ip: str) -> None:
    PasswordAttempts.objects.filter(username=username, ip=ip).update(failures=0)


def check_password_step(
    username: object, password: object, *, ip: str, channel: str, now: datetime, request=None
) -> Account:
    """The account whose password this is, or Refused (one message for both mistakes).

    channel is "web" or "api": each refuses accounts without access to it (accounts.access).
    """
    if not isinstance(username, str) or not isinstance(password, str):
        raise Refused("invalid_credentials", INVALID_CREDENTIALS)
    name = username.strip().lower()[:150]
    if not name or not password or len(password) > MAX_PASSWORD_LENGTH or "\x00" in name:
        raise Refused("invalid_credentials", INVALID_CREDENTIALS)
    try:
        _take_password_slot(name, ip, now)
    except Refused:
        known = Account.objects.filter(username__iexact=name).first()
        audit.record(
            f"{channel}_login_throttled",
            request=request,
            actor=known,
            account="known" if known else "unknown",
        )
        raise
    account = Account.objects.filter(username__iexact=name).first()
    if account is None:
        make_password(password)  # the same work as a real check, so timing tells nothing
        # What was typed is not logged: it may be a password entered in the wrong field.
        audit.record(f"{channel}_login_failed", request=request, account="unknown")
        raise Refused("invalid_credentials", INVALID_CREDENTIALS)
    if not account.check_password(password) or not account.is_active:
        audit.record(f"{channel}_login_failed", request=request, actor=account)
        raise Refused("invalid_credentials", INVALID_CREDENTIALS)
    _release_password_slots(name, ip)
    refusal = access.refusal(account, channel=channel, ip=ip)
    if refusal is not None:
        audit.record(
            f"{channel}_login_refused", request=request, actor=account, reason=refusal.reason
        )
        raise refusal
    return account


def needs_second_step(account: Account) -> bool:
    """A login of this account is complete only after its second factor (SPEC §3, §6)."""
    return twofactor.is_enabled(account)


def record_login(account: Account, *, request=None, with_2fa: bool, channel: str = "web") -> None:
    audit.record(f"{channel}_login", actor=account, request=request, two_factor=with_2fa)


def record_logout(account: Account, *, request=None) -> None:
    audit.record("web_logout", actor=account, request=request)


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
        audit.record("admin_created", actor=admin)
    return admin, generated


# --- the pending second step of a web login ----------------------------------------------

PENDING_KEY = "pending_login"


def begin_pending_login(session, account: Account, *, next_url: str, now: datetime) -> None:
    """Remember that the password step passed. The visitor is not logged in yet."""
    session.cycle_key()  # a new id, so a planted session id cannot ride on the login
    session[PENDING_KEY] = {"account": account.pk, "at": now.timestamp(), "next": next_url}


def pending_login(session, *, now: datetime, pending_seconds: int) -> tuple[Account, str] | None:
    """(account, next URL) of a live pending login; expired or gone ones are cleared."""
    pending = session.get(PENDING_KEY)
    if not pending:
        return None
    if now.timestamp() - pending["at"] > pending_seconds:
        del session[PENDING_KEY]
        raise Refused("pending_expired", "The sign-in took too long. Enter your password again.")
    account = Account.objects.filter(pk=pending["account"], is_active=True).first()
    if account is None:
        del session[PENDING_KEY]
        return None
    return account, pending["next"]


def cancel_pending_login(session) -> None:
    session.pop(PENDING_KEY, None)


def change_own_password(account: Account, old: str, new: str, *, request=None) -> None:
    """A logged-in account sets a new password; the form has already checked the old one."""
    with transaction.atomic():
        account.set_password(new)
        account.save(update_fields=["password"])
        audit.record("password_changed", actor=account, request=request)
        revoke_tokens(account, "password_changed", request=request)
