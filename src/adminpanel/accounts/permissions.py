"""The one permission check used by every page and every API call (SPEC §2)."""

from django.core.exceptions import PermissionDenied

from adminpanel.accounts.models import SECTIONS, Account, Level
from adminpanel.sections import BY_KEY


class NotPermitted(PermissionDenied):
    """The account may not do this; web shows the 403 page, the API `permission_denied`."""


def can(account: Account, section: str, level: Level) -> bool:
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}")
    return account.is_active and account.level(section) >= level


def require(account: Account, section: str, level: Level) -> None:
    if not can(account, section, level):
        label = BY_KEY[section].label
        raise NotPermitted(
            f"This needs {label}: {level.label} (or more) for your account. The Admin can "
            "change that (Sub-Admins)."
        )


def require_admin(account: Account) -> None:
    """Managing Sub-Admins is the Admin's alone."""
    if not (account.is_active and account.is_owner):
        raise NotPermitted("Only the Admin can manage Sub-Admins.")
