"""API keys (SPEC §17): made, listed and revoked by the Admin; checked on every API request.
The only writer of keys.

A key is `apk_` and 256 random bits, shown once; the database keeps only its SHA-256, so a
check is one indexed query (accounts.joined) and never a password hash. A key acts as an API
Sub-Admin (API access only, so no second factor it could step around): every route sees that
account, its permissions and whatever else reads it, and its allowed IPs, narrowed further by
the key's own. Nothing is cached: a revoked key is refused at its next request on every
instance. The account's changes that end its keys (deactivated, API access removed, Admin
Panel access given, deleted) are in accounts.endings.
"""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from adminpanel import audit
from adminpanel.accounts import access, joined
from adminpanel.accounts.models import Account, ApiKey
from adminpanel.accounts.permissions import NotPermitted, require_admin
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Invalid, NotFound, Refused, get_by_id
from adminpanel.net import ip_allowed

KEY_PREFIX = "apk_"  # tells a key from a 1-hour token, and secret scanners what it is
KEY_BYTES = 32  # 256 random bits
KEY_SHAPE = re.compile(r"\Aapk_[A-Za-z0-9_-]{43}\Z")
NAME_MAX = 100
# "Last used" is written when the IP changes, else at most once a minute: a busy integration
# costs one write a minute, not one per request.
LAST_USED_EVERY = timedelta(minutes=1)

INVALID_KEY = "The API key is not valid."
REVOKED_KEY = "This API key was revoked. Ask the Admin for a new one."
EXPIRED_KEY = "This API key has expired. Ask the Admin for a new one."
KEY_IP_NOT_ALLOWED = "This API key is not allowed from your IP address."
NOT_API_ONLY = "Choose an active Sub-Admin with API access only."
ADMIN_ONLY = "Only the Admin can manage API keys."


@dataclass(frozen=True)
class CreatedKey:
    """A new key: `key` is shown once and never stored."""

    key: str
    record: ApiKey


def is_key(bearer: str) -> bool:
    """Is this bearer credential an API key (rather than a token from /auth/login)?"""
    return bearer.startswith(KEY_PREFIX)


def api_subadmins() -> QuerySet:
    """The accounts a key may act as: active Sub-Admins with API access only."""
    return Account.objects.filter(
        is_owner=False, is_active=True, api_access=True, web_access=False
    ).order_by("username")


def subadmins_for_keys(actor: Account) -> QuerySet:
    """The Sub-Admins the Admin may choose for a new key."""
    _require_admin(actor)
    return api_subadmins()


def _may_act_as(account: Account) -> bool:
    return (
        not account.is_owner and account.is_active and account.api_access and not account.web_access
    )


def _require_admin(actor: Account) -> None:
    try:
        require_admin(actor)
    except NotPermitted:
        raise NotPermitted(ADMIN_ONLY) from None


def _name(raw: object) -> str:
    name = raw.strip() if isinstance(raw, str) else ""
    if not name:
        raise Invalid("name", "Give the key a name, e.g. the integration that uses it.")
    if len(name) > NAME_MAX:
        raise Invalid("name", f"A name has at most {NAME_MAX} characters.")
    # The name is shown in the list and the Logs: printable characters only.
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        raise Invalid("name", "Use letters, digits, spaces and punctuation only.")
    return name


def _expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is not None and expires_at <= now:
        raise Invalid("expires", "Choose a day in the future, or leave it empty.")
    return expires_at


def create_key(
    actor: Account,
    *,
    name: object,
    subadmin: object,
    allowed_ips: object = None,
    expires_at: datetime | None = None,
    now: datetime,
    request=None,
) -> CreatedKey:
    """A new key acting as the API Sub-Admin with id `subadmin`. Raises Invalid."""
    _require_admin(actor)
    name = _name(name)
    ips = access.normalize_allowed_ips(allowed_ips)
    expires_at = _expiry(expires_at, now)
    try:
        account = get_by_id(api_subadmins(), subadmin)
    except NotFound:  # any other id, or an account that is not an API Sub-Admin
        raise Invalid("subadmin", NOT_API_ONLY) from None
    key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
    try:
        with transaction.atomic():
            # Under the Sub-Admin's lock: a deactivation (or API access removed) either
            # committed before and is seen here, or waits and then revokes this key too.
            locked = Account.objects.locked(account)
            if not _may_act_as(locked):
                raise Invalid("subadmin", NOT_API_ONLY)
            if ApiKey.objects.filter(name__iexact=name, revoked_at__isnull=True).exists():
                raise IntegrityError
            record = ApiKey.objects.create(
                name=name,
                account=locked,
                key_hash=joined.hash_secret(key),
                hint=key[-4:],
                allowed_ips=ips,
                created_at=now,
                created_by=actor.username,
                expires_at=expires_at,
            )
            audit.record(
                AuditEvent.API_KEY_CREATED,
                actor=actor,
                about_account=locked,
                request=request,
                api_key=record.name,
                api_key_id=record.pk,
                subadmin=locked.username,
                allowed_ips=ips,
                expires_at=expires_at.isoformat() if expires_at else None,
            )
    except IntegrityError:
        raise Invalid(
            "name", f"A key named “{name}” exists already: revoke it or choose another name."
        ) from None
    return CreatedKey(key=key, record=record)


def list_keys(actor: Account) -> QuerySet:
    """Every key, the newest first, with the Sub-Admin it acts as (one query)."""
    _require_admin(actor)
    return ApiKey.objects.select_related("account").order_by("-created_at", "-id")


def get_key(actor: Account, pk: object) -> ApiKey:
    _require_admin(actor)
    return get_by_id(ApiKey.objects.select_related("account"), pk)


def _revoke(keys: QuerySet, reason: str, *, now: datetime, actor, request) -> int:
    """Mark the keys revoked (the ones not revoked yet) and log each, by name."""
    revoked = 0
    for record in keys.filter(revoked_at__isnull=True).select_related("account"):
        if ApiKey.objects.filter(pk=record.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason[:64]
        ):
            revoked += 1
            audit.record(
                AuditEvent.API_KEY_REVOKED,
                actor=actor,
                about_account=record.account,
                request=request,
                api_key=record.name,
                api_key_id=record.pk,
                subadmin=record.account.username,
                reason=reason,
            )
    return revoked


def revoke_key(actor: Account, record: ApiKey, *, now: datetime, request=None) -> bool:
    """The Admin revokes one key: refused from its next request on, on every instance.
    False when it was revoked already."""
    _require_admin(actor)
    with transaction.atomic():
        return bool(
            _revoke(
                ApiKey.objects.filter(pk=record.pk),
                "revoked",
                now=now,
                actor=actor,
                request=request,
            )
        )


def revoke_keys(account: Account, reason: str, *, now: datetime, actor=None, request=None) -> int:
    """End every key that acts as `account` (accounts.endings); returns how many."""
    return _revoke(
        ApiKey.objects.filter(account=account),
        reason,
        now=now,
        actor=actor or account,
        request=request,
    )


def _refusal(record: ApiKey, *, ip: str, now: datetime) -> tuple[str, Refused] | None:
    """Why the key may not be used now from `ip`: the log's reason and the answer; or None."""
    account = record.account
    if record.revoked_at is not None:
        return "revoked", Refused("invalid_token", REVOKED_KEY)
    if record.expires_at is not None and record.expires_at <= now:
        return "expired", Refused("invalid_token", EXPIRED_KEY)
    if not _may_act_as(account):  # the change revoked the key already; this holds anyway
        return "account_changed", Refused("invalid_token", REVOKED_KEY)
    refusal = access.refusal(account, channel="api", ip=ip)
    if refusal is not None:
        return refusal.reason, refusal
    if not ip_allowed(ip, record.allowed_ips):
        return "key_ip_not_allowed", Refused("ip_not_allowed", KEY_IP_NOT_ALLOWED)
    return None


def authenticate_key(key: str, *, ip: str, now: datetime, request=None) -> ApiKey:
    """The live key (with the account it acts as) for a presented bearer key, or Refused.

    One indexed query by SHA-256 (plus, at most once a minute, the write of "last used").
    A known key that is refused (revoked, expired, from an IP outside its lists) is logged.
    """
    if not KEY_SHAPE.match(key):
        raise Refused("invalid_token", INVALID_KEY)
    record = joined.with_account(ApiKey, "key_hash", joined.hash_secret(key))
    if record is None:
        raise Refused("invalid_token", INVALID_KEY)
    refused = _refusal(record, ip=ip, now=now)
    if refused is not None:
        reason, refusal = refused
        audit.record(
            AuditEvent.API_KEY_REFUSED,
            actor=record.account,
            request=request,
            api_key=record.name,
            api_key_id=record.pk,
            reason=reason,
        )
        raise refusal
    if (
        record.last_used_at is None
        or now - record.last_used_at >= LAST_USED_EVERY
        or record.last_used_ip != ip
    ):
        ApiKey.objects.filter(pk=record.pk).update(last_used_at=now, last_used_ip=ip)
        record.last_used_at, record.last_used_ip = now, ip
    return record
