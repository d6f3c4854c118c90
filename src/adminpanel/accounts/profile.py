"""Security → Profile (SPEC §12, §2): an account's own e-mail, and the Admin's allowed IPs."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from adminpanel import audit
from adminpanel.accounts.models import Account, AccountManager
from adminpanel.accounts.subadmins import normalize_allowed_ips
from adminpanel.audit.changes import edits
from adminpanel.errors import Invalid
from adminpanel.net import ip_allowed

ONLY_ADMIN_IPS = "Only the Admin sets its own Allowed IPs; the Admin sets a Sub-Admin's."


def _email(raw: object) -> str:
    if not isinstance(raw, str):
        raise Invalid("email", "Enter an e-mail address.")
    address = raw.strip()
    if not address:
        return ""
    try:
        validate_email(address)
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


def update_profile(
    account: Account, *, email: object, allowed_ips: object = None, ip: str, request=None
) -> list[str]:
    """Save the account's own profile; returns the names of what changed (logged)."""
    changes: dict = {"email": _email(email)}
    if allowed_ips is not None:
        if not account.is_owner:
            raise Invalid("allowed_ips", ONLY_ADMIN_IPS)
        changes["allowed_ips"] = _own_allowed_ips(allowed_ips, ip)
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        changed = edits({field: getattr(locked, field) for field in changes}, changes)
        if not changed:
            return []
        for field, value in changes.items():
            setattr(locked, field, value)
            setattr(account, field, value)
        locked.save(update_fields=list(changed))
        audit.record("profile_updated", actor=locked, request=request, edits=changed)
    return list(changed)
