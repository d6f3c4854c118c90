"""The home page's security overview (read-only)."""

from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from adminpanel.twofactor import interface as twofactor

FAILURE_EVENTS = (
    "web_login_failed",
    "api_login_failed",
    "2fa_failed",
    "web_login_refused",
    "api_login_refused",
    "web_login_throttled",
    "api_login_throttled",
)


def security_overview(actor: Account) -> dict:
    """Which accounts have 2FA, which API accounts accept any IP, recent failures (Admin)."""
    if not actor.is_owner:
        return {}
    accounts = list(twofactor.with_two_factor(Account.objects.order_by("-is_owner", "username")))
    return {
        "accounts": [
            {"account": a, "two_factor": a.two_factor, "methods": twofactor.method_names(a)}
            for a in accounts
        ],
        "open_api_accounts": [
            a
            for a in accounts
            if a.api_access and not a.allowed_ips and a.is_active and not a.is_owner
        ],
        "recent_failures": list(Event.objects.filter(event__in=FAILURE_EVENTS)[:10]),
    }
