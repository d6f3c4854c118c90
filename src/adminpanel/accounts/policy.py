"""The Admin's 2FA policy (SPEC §12): who must use two-factor authentication.

A Sub-Admin with Admin Panel access must have 2FA when its own **Require 2FA** box is ticked
or the Policy says **Require 2FA for Sub-Admins**. Until it has, its web sessions reach only
Security → 2FA (login.gate, login.middleware); it cannot turn 2FA off; and its API login is refused,
and so is every token it holds, since the API would be a way around the gate.
"""

from django.db import transaction

from adminpanel import audit
from adminpanel.accounts.models import Account, Policy
from adminpanel.accounts.permissions import require_admin
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused

REQUIRED = "Your Admin requires two-factor authentication for this account. Enable it to continue."
KEPT_ON = "Your Admin requires two-factor authentication for this account"  # status page, refusal
CANNOT_DISABLE = f"{KEPT_ON}: it stays on."


def current() -> Policy:
    return Policy.objects.get_or_create(pk=1)[0]


def must_have_2fa(account: Account, policy: Policy | None = None) -> bool:
    """Does a rule of the Admin require 2FA of this account?"""
    if account.is_owner or not account.web_access:
        return False  # the Admin decides for itself; an API-only account cannot have 2FA
    if account.require_2fa:
        return True
    return (policy or current()).require_2fa_for_subadmins


def token_refusal(account: Account) -> Refused | None:
    """A token of an account that must have 2FA works no more, whenever it was issued.

    No 2FA lookup: an account with 2FA holds no live token (enabling revoked them, and its
    API login is refused), so must_have_2fa alone decides, at one query at most.
    """
    if must_have_2fa(account):
        return Refused("two_factor_required", REQUIRED)
    return None


def check_may_disable(account: Account) -> None:
    if must_have_2fa(account):
        raise Refused("two_factor_required", CANNOT_DISABLE)


def set_require_2fa_for_subadmins(actor: Account, value: bool, *, request=None) -> Policy:
    """The Admin changes the policy; logged when it changes."""
    require_admin(actor)
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get_or_create(pk=1)[0]
        if policy.require_2fa_for_subadmins != value:
            policy.require_2fa_for_subadmins = value
            policy.save(update_fields=["require_2fa_for_subadmins"])
            audit.record(
                AuditEvent.POLICY_CHANGED,
                actor=actor,
                request=request,
                require_2fa_for_subadmins=value,
            )
    return policy
