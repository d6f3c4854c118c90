"""The home page's security overview (read-only)."""

import heapq
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import islice

from adminpanel.accounts import policy, web_sessions
from adminpanel.accounts.models import Account, Policy
from adminpanel.audit.catalogue import AuditEvent, Group, in_group
from adminpanel.audit.models import Event
from adminpanel.audit.words import REASONS, event_label
from adminpanel.twofactor import interface as twofactor

# Each failed attempt at an account (Group.FAILED_ATTEMPT) in words, singular and plural, for
# Home's one sentence.
ATTEMPT_WORDS = {
    AuditEvent.WEB_LOGIN_FAILED: ("wrong password", "wrong passwords"),
    AuditEvent.API_LOGIN_FAILED: ("wrong password at the API", "wrong passwords at the API"),
    AuditEvent.TWO_FACTOR_FAILED: ("wrong 2FA code", "wrong 2FA codes"),
    AuditEvent.WEB_LOGIN_THROTTLED: ("try while paused", "tries while paused"),
    AuditEvent.API_LOGIN_THROTTLED: ("API try while paused", "API tries while paused"),
    AuditEvent.ACCESS_CONFIRM_FAILED: (
        "wrong password at Confirm access",
        "wrong passwords at Confirm access",
    ),
    AuditEvent.WEBAUTHN_COUNTER_REGRESSED: ("possibly cloned key", "possibly cloned keys"),
}
# How many of the Admin's recent failures are read to group them.
RECENT_FAILURES_READ = 200


def _failure_words(event: Event) -> str:
    """E.g. "Sign-in refused: IP address not allowed", "Security key refused: possibly cloned"."""
    words = event_label(event.event)
    reason = event.details.get("reason") if isinstance(event.details, dict) else None
    if reason:
        words += f": {REASONS.get(reason, str(reason).replace('_', ' '))}"
    return words


def grouped_failures(events, limit: int = 10) -> list[dict]:
    """Failures with the same account, kind and IP as one row: how many, first and last time."""
    groups: dict[tuple, dict] = {}
    for e in events:
        what = _failure_words(e)
        key = (e.actor_name, what, e.ip)
        group = groups.get(key)
        if group is None:
            if len(groups) == limit:
                continue
            groups[key] = {
                "account": e.actor_name,
                "what": what,
                "ip": e.ip,
                "count": 1,
                "last": e.at,
                "first": e.at,
            }
        else:
            group["count"] += 1
            group["first"] = e.at
    return list(groups.values())


def attempts_in_words(counts: dict[str, int]) -> str:
    """E.g. "2 wrong passwords and 1 possibly cloned key", most frequent first."""
    parts = [
        f"{n} {ATTEMPT_WORDS[event][0 if n == 1 else 1]}"
        for event, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        if n
    ]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _account_row(account: Account, policy_now: Policy) -> dict:
    two_factor = twofactor.is_enabled(account)  # from with_two_factor's annotations
    return {
        "account": account,
        "two_factor": two_factor,
        "methods": twofactor.method_names(account),
        "required": policy.must_have_2fa(account, policy_now),
        # SPEC §6: the API login of an account with a second factor is refused.
        "api_login": account.api_access and not two_factor,
    }


def security_overview(actor: Account) -> dict:
    """Which accounts have 2FA, which API accounts accept any IP, recent failures (Admin)."""
    if not actor.is_owner:
        return {}
    accounts = list(twofactor.with_two_factor(Account.objects.order_by("-is_owner", "username")))
    current = policy.current()
    rows = [_account_row(a, current) for a in accounts]
    return {
        "accounts": rows,
        "not_compliant": [r["account"] for r in rows if r["required"] and not r["two_factor"]],
        "open_api_accounts": [
            a
            for a in accounts
            if a.api_access and not a.allowed_ips and a.is_active and not a.is_owner
        ],
        "recent_failures": grouped_failures(
            newest_of_kinds(in_group(Group.FAILURE), RECENT_FAILURES_READ)
        ),
    }


def newest_of_kinds(kinds: Iterable[str], n: int) -> list[Event]:
    """The n newest events of these kinds, newest first: one read per kind along the (event,
    at) index, merged here. One read of them all lets SQLite, once it has statistics, walk
    `at` back through a million events for a kind that is rare (issue 20's scale benchmark)."""
    reads = [Event.objects.filter(event=kind).order_by("-at", "-id")[:n] for kind in kinds]
    newest = heapq.merge(*reads, key=lambda e: (e.at, e.pk), reverse=True)
    return list(islice(newest, n))


def after_the_fact(account: Account, session) -> dict:
    """The sign-in before this session's (time, IP), the failed attempts at the account since
    then, and how many recovery codes are left when this session used one (SPEC §12)."""
    login_at = session.get(web_sessions.LOGIN_AT)
    logins = Event.objects.filter(actor=account, event=AuditEvent.WEB_LOGIN)
    if isinstance(login_at, int | float):
        logins = logins.filter(at__lt=datetime.fromtimestamp(login_at, UTC))
    previous = logins.order_by("-at", "-id").first()
    # Counted, not listed: no order, so the database reads the (actor, event, at) index.
    failures = Event.objects.filter(
        actor=account, event__in=in_group(Group.FAILED_ATTEMPT)
    ).order_by()
    if previous is not None:
        failures = failures.filter(at__gt=previous.at)
    counts: dict[str, int] = {}
    for event in failures.values_list("event", flat=True):
        counts[event] = counts.get(event, 0) + 1
    return {
        "last_sign_in": previous,
        "failed_since": sum(counts.values()),
        "failed_since_words": attempts_in_words(counts),
        "recovery_sign_in_left": session.get(web_sessions.RECOVERY_CODES_LEFT),
    }
