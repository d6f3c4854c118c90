"""The audit log in people's words: event names and details as the Logs page shows them.

The stored log keeps its machine names (filters, the CSV export and the API use them); these
are only how a person reads them. Each event's own words are its label in the catalogue.
"""

from adminpanel.audit.catalogue import AuditEvent

KEYS = {
    "two_factor": "With 2FA",
    "codes_left": "Recovery codes left",
    "wait_seconds": "Wait",
    "failures": "Failures in a row",
    "refused_unchecked": "Refused unchecked (while waiting)",
    "allowed_ips": "Allowed IPs",
    "web_access": "Admin Panel",
    "api_access": "API",
    "is_active": "Active",
    "quota_mb": "Quota (MB)",
    "selector": "DKIM selector",
    "selectors": "DKIM selectors",
    "catch_all": "Catch-all",
    "alias_domain": "Alias domain",
    "alias_domains_deleted": "Alias domains deleted",
    "display_name": "Display name",
    "about": "About",
    "to": "To",
    "retry_at": "Next try (UTC)",
    "subadmin": "Sub-Admin",
    "email": "E-mail",
    "sign_in_allowed": "Sign-in allowed",
    "old_address": "Old address",
    "old_address_kept_as_alias": "Old address kept as an alias",
    "mail_kept_until": "Mail kept until (UTC)",
    "purged_at": "Purged at (UTC)",
    "keep_copy": "Keep a copy",
    "starts_on": "From",
    "ends_on": "Until",
    "by_owner": "By the mailbox's owner",
    "count": "Mailboxes",
    "generated_passwords": "With generated passwords",
    "imported_hashes": "With imported password hashes",
    "replacing": "Replacing the authenticator app",
    "api_key": "API key",
    "api_key_id": "API key id",
    "expires_at": "Expires (UTC)",
}

REASONS = {
    "ip_not_allowed": "IP address not allowed",
    "api_only": "API-only account",
    "web_denied": "no Admin Panel access",
    "api_access_denied": "no API access",
    "two_factor_enabled": "2FA is on",
    "two_factor_required": "2FA required by the Admin",
    "invalid": "wrong code",
    "replayed": "code already used",
    "clock_off": "device clock is off",
    "throttled": "waiting after wrong codes",
    "locked": "locked: recovery code needed",
    "revoked": "revoked",
    "expired": "expired",
    "key_ip_not_allowed": "IP address not allowed for this key",
    "account_changed": "the Sub-Admin changed",
    "deactivated": "Sub-Admin deactivated",
    "api_access_removed": "API access removed",
    "web_access_given": "Admin Panel access given",
    "deleted": "Sub-Admin deleted",
}

PURPOSES = {
    "login": "signing in",
    "disable": "turning 2FA off",
    "regenerate": "new recovery codes",
}


def event_label(event: str) -> str:
    """E.g. "2fa_failed" -> "2FA code refused"; a name the catalogue lacks in plain words."""
    try:
        return AuditEvent(event).label
    except ValueError:  # a stored name no member has (none today)
        return event.replace("_", " ").capitalize()


def events_matching(text: str) -> list[AuditEvent]:
    """The events whose words contain `text` (case-insensitive)."""
    wanted = text.casefold()
    return [event for event in AuditEvent if wanted in event.label.casefold()]


def _key(name: str) -> str:
    return KEYS.get(name) or name.replace("_", " ").capitalize()


def _seconds(value: int) -> str:
    minutes = max(1, round(value / 60))
    if minutes < 60:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    hours = round(minutes / 60)
    return "1 hour" if hours == 1 else f"{hours} hours"


def value_in_words(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(value_in_words(v) for v in value) if value else "none"
    if isinstance(value, dict):
        if set(value) == {"from", "to"}:
            return f"{value_in_words(value['from'])} → {value_in_words(value['to'])}"
        return "; ".join(f"{_key(k)}: {value_in_words(v)}" for k, v in value.items())
    return str(value)


def details_in_words(details: dict) -> list[tuple[str, str]]:
    """(label, text) pairs: booleans as Yes/No, lists joined, edits as old → new."""
    edited = details.get("edits") if isinstance(details.get("edits"), dict) else {}
    pairs = []
    for name, value in details.items():
        if name in edited:
            continue  # the new value alone: the edit says old → new
        if name == "edits":
            pairs += [(_key(field), value_in_words(change)) for field, change in edited.items()]
        elif name == "changed" and isinstance(value, list):
            rest = [_key(field) for field in value if field not in edited]
            if rest:
                pairs.append(("Changed", ", ".join(rest)))
        elif name == "reason":
            pairs.append(("Reason", REASONS.get(value, value_in_words(value))))
        elif name == "purpose":
            pairs.append(("While", PURPOSES.get(value, value_in_words(value))))
        elif name == "about":
            pairs.append((_key(name), event_label(str(value))))
        elif name == "wait_seconds" and isinstance(value, int):
            pairs.append((_key(name), _seconds(value)))
        else:
            pairs.append((_key(name), value_in_words(value)))
    return pairs
