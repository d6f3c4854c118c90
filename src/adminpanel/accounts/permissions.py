"""The one permission check used by every page and every API call (SPEC §2)."""

from django.core.exceptions import PermissionDenied

from adminpanel.accounts.models import SECTIONS, Account, Level


class NotPermitted(PermissionDenied):
    """The account may not do this; web shows the 403 page, the API `permission_denied`."""


def can(account: Account, section: str, level: Level) -> bool:
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}")
    return account.is_active and account.level(section) >= level


def require(account: Account, section: str, level: Level) -> None:
    if not can(account, section, level):
        raise NotPermitted(f"Your account needs {section}: {level.label} for this.")


def require_admin(account: Account) -> None:
    """Managing Sub-Admins is the Admin's alone."""
    if not (account.is_active and account.is_owner):
        raise NotPermitted("Only the Admin can manage Sub-Admins.")
