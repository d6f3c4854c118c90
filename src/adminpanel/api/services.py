"""The API login (SPEC §6): a bearer token for a password, never for an account with 2FA."""

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest

from adminpanel import audit
from adminpanel.accounts import api_keys, policy
from adminpanel.accounts.models import Account, ApiKey, ApiToken
from adminpanel.accounts.tokens import IssuedToken, authenticate_token, issue_token, revoke_token
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
KEY_LOGOUT = (
    "An API key is not logged out: it works until it expires or the Admin revokes it "
    "(Security → API keys)."
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


def authenticate(
    bearer: str, *, ip: str, now: datetime, request: HttpRequest | None
) -> ApiToken | ApiKey:
    """The live token or API key of a request, or Refused.

    A key (SPEC §17) is checked by accounts.api_keys: it acts only as an API-only Sub-Admin,
    which no 2FA rule concerns. A token gets its own checks (accounts.tokens), then the 2FA
    policy as it is now, so a token issued before a rule required 2FA stops with it.
    """
    if api_keys.is_key(bearer):
        return api_keys.authenticate_key(bearer, ip=ip, now=now, request=request)
    record = authenticate_token(bearer, ip=ip, now=now, request=request)
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


def log_out(credential: ApiToken | ApiKey, *, now: datetime, request: HttpRequest | None) -> None:
    """POST /auth/logout: the token of this request stops working. A key is not logged out:
    the Admin revokes it (Security → API keys), so a script's habit of logging out at the end
    of a run cannot end the key it runs with."""
    if isinstance(credential, ApiKey):
        raise Refused("api_key_not_logged_out", KEY_LOGOUT)
    revoke_token(credential, now=now, request=request)
