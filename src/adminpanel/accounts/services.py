"""Accounts: the Admin's creation and one's own password (SPEC §2). The login is login.services."""

import secrets

from django.db import transaction

from adminpanel import audit, clock
from adminpanel.accounts import guessing, web_sessions
from adminpanel.accounts.models import Account
from adminpanel.accounts.tokens import revoke_tokens
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.net import client_ip


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
