"""The home page's security overview (read-only)."""

from datetime import UTC, datetime

from adminpanel.accounts import policy, web_sessions
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
# Attempts at this account that failed, for "after the fact" (SPEC §12).
ATTEMPTS_FAILED = (
    "web_login_failed",
    "api_login_failed",
    "2fa_failed",
    "web_login_throttled",
    "api_login_throttled",
    "access_confirm_failed",
)


def security_overview(actor: Account) -> dict:
    """Which accounts have 2FA, which API accounts accept any IP, recent failures (Admin)."""
    if not actor.is_owner:
        return {}
    accounts = list(twofactor.with_two_factor(Account.objects.order_by("-is_owner", "username")))
    current = policy.current()
    rows = [
        {
            "account": a,
            "two_factor": a.two_factor,
            "methods": twofactor.method_names(a),
            "required": policy.must_have_2fa(a, current),
        }
        for a in accounts
    ]
    return {
        "accounts": rows,
        "not_compliant": [r["account"] for r in rows if r["required"] and not r["two_factor"]],
        "open_api_accounts": [
            a
            for a in accounts
            if a.api_access and not a.allowed_ips and a.is_active and not a.is_owner
        ],
        "recent_failures": list(Event.objects.filter(event__in=FAILURE_EVENTS)[:10]),
    }


def after_the_fact(account: Account, session) -> dict:
    """The sign-in before this session's (time, IP), the failed attempts at the account since
    then, and how many recovery codes are left when this session used one (SPEC §12)."""
    login_at = session.get(web_sessions.LOGIN_AT)
    logins = Event.objects.filter(actor=account, event="web_login")
    if isinstance(login_at, int | float):
        logins = logins.filter(at__lt=datetime.fromtimestamp(login_at, UTC))
    previous = logins.order_by("-at", "-id").first()
    failures = Event.objects.filter(actor=account, event__in=ATTEMPTS_FAILED)
    if previous is not None:
        failures = failures.filter(at__gt=previous.at)
    return {
        "last_sign_in": previous,
        "failed_since": failures.count(),
        "recovery_sign_in_left": session.get(web_sessions.RECOVERY_CODES_LEFT),
    }
