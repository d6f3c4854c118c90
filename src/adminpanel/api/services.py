"""The API login (SPEC §6): a bearer token for a password, never for an account with 2FA."""

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest

from adminpanel import audit
from adminpanel.accounts import policy
from adminpanel.accounts.models import Account, ApiToken
from adminpanel.accounts.tokens import IssuedToken, authenticate_token, issue_token
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.login import gate
from adminpanel.login.services import (
    INVALID_CREDENTIALS,
    check_password_step,
    needs_second_step,
    record_login,
)

TWO_FACTOR_ENABLED = (
    "Two-factor authentication is on for this account, so it cannot log in to the API "
    "(a script cannot type a code). Create a Sub-Admin with API access, restricted to your "
    "integration's IP addresses, instead."
)


def login(
    username: object, password: object, *, ip: str, now: datetime, request: HttpRequest | None
) -> IssuedToken:
    """A token for a correct password of an account with API access and without 2FA.

    Raises Refused: invalid_credentials (also from outside the allowed IPs), too_many_attempts,
    api_access_denied (all from the password step) or two_factor_enabled (only once the password
    is right, so the refusal tells nothing to someone who does not know it).
    """
    account = check_password_step(
        username, password, ip=ip, channel="api", now=now, request=request
    )
    refusal: Refused | None = None
    with transaction.atomic():
        locked = Account.objects.locked(account)
        # Re-checked under the lock: a password change or deactivation that committed since the
        # password step revoked tokens already and must not be undone by this one.
        if locked.password != account.password or not locked.is_active or not locked.api_allowed:
            refusal = Refused("invalid_credentials", INVALID_CREDENTIALS)
        elif needs_second_step(locked):
            refusal = Refused("two_factor_enabled", TWO_FACTOR_ENABLED)
        elif (policy_refusal := gate.api_refusal(locked)) is not None:
            refusal = policy_refusal
        else:
            issued = issue_token(locked, now=now, ip=ip)
            record_login(locked, request=request, with_2fa=False, channel="api")
    if refusal is not None:
        # Recorded outside the transaction above, which made no change worth keeping.
        audit.record(
            AuditEvent.API_LOGIN_REFUSED, actor=account, request=request, reason=refusal.reason
        )
        raise refusal
    return issued


def authenticate(token: str, *, ip: str, now: datetime, request: HttpRequest | None) -> ApiToken:
    """The live token of a request, or Refused: the token's own checks (accounts.tokens), then the
    2FA policy as it is now, so a token issued before a rule required 2FA stops with it."""
    record = authenticate_token(token, ip=ip, now=now, request=request)
    refusal = policy.token_refusal(record.account)
    if refusal is not None:
        audit.record(
            AuditEvent.API_TOKEN_REFUSED,
            actor=record.account,
            request=request,
            reason=refusal.reason,
        )
        raise refusal
    return record
