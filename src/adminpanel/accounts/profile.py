"""Security → Profile (SPEC §12, §2): an account's own e-mail, and the Admin's allowed IPs.

A new notice e-mail takes effect only when the link mailed to it is opened by the account that
asked (single-use, expiring; a newer request replaces it), and an account asks at most
MAX_EMAIL_CHANGES times an hour: the panel mails no third party on demand. The mail itself is
written by notices (connected to signals.email_confirmation_requested), in the same
transaction.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from adminpanel import audit, clock
from adminpanel.accounts.access import normalize_allowed_ips
from adminpanel.accounts.models import Account, AccountManager, EmailChange
from adminpanel.accounts.signals import LINK_HOURS, email_confirmation_requested
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.changes import update_and_log
from adminpanel.errors import Invalid, Refused
from adminpanel.net import ip_allowed

ONLY_ADMIN_IPS = "Only the Admin sets its own Allowed IPs; the Admin sets a Sub-Admin's."
MAX_EMAIL_CHANGES = 3  # new addresses asked for per account and hour
LINK_INVALID = (
    "This link does not work (any more): it was used, replaced by a newer one, has expired, or "
    "belongs to another account. Ask for a new one under Security → Profile."
)


@dataclass(frozen=True)
class ProfileSaved:
    """What a Save did: the fields changed now, and the new address a link was mailed to."""

    changed: list[str]
    link_sent_to: str = ""


def _email(raw: object) -> str:
    if not isinstance(raw, str):
        raise Invalid("email", "Enter an e-mail address.")
    address = raw.strip()
    if not address:
        return ""
    try:
        validate_email(address)
        if "=?" in address:  # an encoded word: mail would go to another address, or none
            raise ValidationError("encoded word")
    except ValidationError:
        raise Invalid("email", "Enter an e-mail address such as name@example.com.") from None
    return AccountManager.normalize_email(address)


def _own_allowed_ips(raw: object, ip: str) -> list[str]:
    """The Admin's new list, refused when it would shut out the address in use right now."""
    allowed = normalize_allowed_ips(raw)
    if not ip_allowed(ip, allowed):
        raise Invalid(
            "allowed_ips",
            f"Your current IP address {ip or '(unknown)'} is not in this list, so saving it "
            "would log you out at once and keep you out. Add it, or a range that holds it.",
        )
    return allowed


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ask_for_link(locked: Account, address: str, now: datetime, request) -> None:
    """A new EmailChange and its link, mailed to `address`; refused over the hourly limit."""
    hour_ago = now - timedelta(hours=1)
    asked = EmailChange.objects.filter(account=locked, created_at__gt=hour_ago)
    if asked.count() >= MAX_EMAIL_CHANGES:
        oldest = asked.order_by("created_at").first()
        wait = (oldest.created_at + timedelta(hours=1) - now).total_seconds()
        raise Invalid(
            "email",
            f"You asked for {MAX_EMAIL_CHANGES} new addresses in the last hour: try again in "
            f"{clock.minutes(wait)}.",
        )
    EmailChange.objects.filter(account=locked, created_at__lt=now - timedelta(days=1)).delete()
    token = secrets.token_urlsafe(32)
    EmailChange.objects.create(
        account=locked,
        email=address,
        token_hash=_token_hash(token),
        created_at=now,
        expires_at=now + timedelta(hours=LINK_HOURS),
    )
    path = reverse("profile-email-confirm", kwargs={"token": token})
    url = request.build_absolute_uri(path) if request is not None else path
    audit.record(AuditEvent.EMAIL_CHANGE_REQUESTED, actor=locked, request=request, email=address)
    email_confirmation_requested.send(
        sender=Account, account=locked, address=address, url=url, request=request
    )


def update_profile(
    account: Account,
    *,
    email: object,
    allowed_ips: object = None,
    ip: str,
    now: datetime | None = None,
    request=None,
) -> ProfileSaved:
    """Save the account's own profile (logged). Emptying the e-mail or the Allowed IPs takes
    effect now; a new e-mail address only when its link is opened (confirm_email_change)."""
    now = now or clock.now()
    wanted = _email(email)
    changes: dict = {}
    if allowed_ips is not None:
        if not account.is_owner:
            raise Invalid("allowed_ips", ONLY_ADMIN_IPS)
        changes["allowed_ips"] = _own_allowed_ips(allowed_ips, ip)
    with transaction.atomic():
        locked = Account.objects.locked(account)
        link_to = wanted if wanted and wanted != locked.email else ""
        if not wanted:
            changes["email"] = ""
        if link_to:
            _ask_for_link(locked, link_to, now, request)
        changed = update_and_log(
            locked, changes, AuditEvent.PROFILE_UPDATED, actor=locked, request=request
        )
        for field in changed:
            setattr(account, field, changes[field])
    return ProfileSaved(list(changed), link_to)


def pending_email(account: Account, now: datetime) -> EmailChange | None:
    """The new address waiting for its link to be opened, if any."""
    newest = EmailChange.objects.filter(account=account).order_by("-created_at", "-pk").first()
    if newest is None or newest.used_at is not None or newest.expires_at <= now:
        return None
    return newest


def confirm_email_change(account: Account, token: object, *, now: datetime, request=None) -> str:
    """Open a link: the account's newest unused, unexpired request takes effect (the old
    address is told, as on every change of it). Returns the new address; else Refused."""
    if not isinstance(token, str) or not token or len(token) > 100:
        raise Refused("link_invalid", LINK_INVALID)
    with transaction.atomic():
        locked = Account.objects.locked(account)
        change = EmailChange.objects.filter(token_hash=_token_hash(token)).first()
        if change is None or change.account_id != locked.pk or change != pending_email(locked, now):
            raise Refused("link_invalid", LINK_INVALID)
        change.used_at = now
        change.save(update_fields=["used_at"])
        update_and_log(
            locked,
            {"email": change.email},
            AuditEvent.PROFILE_UPDATED,
            actor=locked,
            request=request,
        )
        account.email = change.email
    return change.email
