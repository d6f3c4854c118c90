"""API bearer tokens (SPEC §6): issuing, checking and revoking. The only writer of tokens.

A token is 256 random bits shown once; the database keeps only its SHA-256, so checking one is
one indexed lookup and never a password hash. Issuing and revoking happen under the lock of the
account's row, the one lock of ARCHITECTURE.md, so a token can never outlive the change that
revoked the account's tokens (2FA enabled, password changed, deactivated, API access removed).

This module sits below the code that revokes tokens (accounts, twofactor) and imports none of it.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from adminpanel import audit, clock
from adminpanel.accounts import access, joined
from adminpanel.accounts.models import Account, ApiToken
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused

TOKEN_LIFETIME = timedelta(hours=1)
TOKEN_BYTES = 32  # 256 random bits
TOKEN_SHAPE = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")  # secrets.token_urlsafe(32)
# Expired and revoked rows are kept this long (what "last used from" tells), then swept.
KEEP_DEAD_TOKENS = timedelta(days=1)

INVALID_TOKEN = "The token is invalid, expired or revoked. Log in again for a new one."  # noqa: S105


@dataclass(frozen=True)
class IssuedToken:
    """A new token: `token` is shown once and never stored."""

    token: str
    expires_at: datetime
    record: ApiToken


def hash_token(token: str) -> str:
    return joined.hash_secret(token)


def issue_token(account: Account, *, now: datetime, ip: str = "") -> IssuedToken:
    """A new 1-hour token for the account. Call inside a transaction holding the account's lock."""
    ApiToken.objects.filter(account=account, expires_at__lt=now - KEEP_DEAD_TOKENS).delete()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record = ApiToken.objects.create(
        account=account,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + TOKEN_LIFETIME,
        last_used_ip=ip,
    )
    return IssuedToken(token=token, expires_at=record.expires_at, record=record)


def authenticate_token(token: str, *, ip: str, now: datetime, request=None) -> ApiToken:
    """The live token (with its account) for a presented bearer token, or Refused.

    One indexed lookup by SHA-256. The account must still be active, and may use the API
    from the client's IP address (accounts.access).
    """
    if not TOKEN_SHAPE.match(token):
        raise Refused("invalid_token", INVALID_TOKEN)
    record = joined.with_account(ApiToken, "token_hash", hash_token(token))
    if record is None:
        raise Refused("invalid_token", INVALID_TOKEN)
    if not record.is_live(now) or not record.account.is_active:
        raise Refused("invalid_token", INVALID_TOKEN)
    account = record.account
    refusal = access.refusal(account, channel="api", ip=ip)
    if refusal is not None:
        audit.record(
            AuditEvent.API_TOKEN_REFUSED, actor=account, request=request, reason=refusal.reason
        )
        raise refusal
    if record.last_used_ip != ip:
        # Written only when it changes, so a steady client costs no write per request.
        ApiToken.objects.filter(pk=record.pk).update(last_used_ip=ip)
        record.last_used_ip = ip
    return record


def revoke_token(record: ApiToken, *, now: datetime, request=None) -> None:
    """Log out: this token stops working at once."""
    with transaction.atomic():
        ApiToken.objects.filter(pk=record.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason="logout"
        )
        audit.record(
            AuditEvent.API_LOGOUT, actor=record.account, request=request, token_id=record.pk
        )


def revoke_tokens(account: Account, reason: str, *, actor=None, request=None) -> int:
    """End every live token of the account at once; returns how many. Logged when any."""
    now = clock.now()
    count = ApiToken.objects.filter(
        account=account, revoked_at__isnull=True, expires_at__gt=now
    ).update(revoked_at=now, revoked_reason=reason[:64])
    if count:
        audit.record(
            AuditEvent.API_TOKEN_REVOKED,
            actor=actor or account,
            about_account=account,
            request=request,
            account=account.username,
            reason=reason,
            tokens=count,
        )
    return count
