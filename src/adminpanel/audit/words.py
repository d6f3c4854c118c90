"""The audit log in people's words: event names and details as the Logs page shows them.

The stored log keeps its machine names (filters, the CSV export and the API use them); these
are only how a person reads them.
"""

EVENTS = {
    "web_login": "Signed in",
    "web_login_failed": "Sign-in refused: wrong password",
    "web_login_refused": "Sign-in refused",
    "web_login_throttled": "Sign-in paused: too many attempts",
    "web_logout": "Signed out",
    "web_session_ended": "Session ended",
    "web_sessions_ended": "Sessions ended",
    "api_login": "API sign-in",
    "api_login_failed": "API sign-in refused: wrong password",
    "api_login_refused": "API sign-in refused",
    "api_login_throttled": "API sign-in paused: too many attempts",
    "api_logout": "API token ended by sign-out",
    "api_token_refused": "API token refused",
    "api_token_revoked": "API tokens revoked",
    "2fa_setup_started": "2FA setup started",
    "2fa_enabled": "2FA enabled",
    "2fa_disabled": "2FA disabled",
    "2fa_failed": "2FA code refused",
    "2fa_throttled": "2FA codes paused: too many wrong codes",
    "2fa_recovery_code_used": "Recovery code used",
    "2fa_recovery_codes_regenerated": "New recovery codes generated",
    "2fa_reset": "2FA reset",
    "2fa_app_added": "Authenticator app added",
    "2fa_app_replaced": "Authenticator app replaced",
    "2fa_app_removed": "Authenticator app removed",
    "webauthn_key_added": "Security key added",
    "webauthn_key_removed": "Security key removed",
    "webauthn_key_used": "Security key used",
    "webauthn_counter_regressed": "Security key refused: possibly cloned",
    "admin_created": "Admin created",
    "password_changed": "Password changed",
    "password_change_failed": "Password change refused: wrong current password",
    "password_change_throttled": "Password change paused: too many attempts",
    "profile_updated": "Profile changed",
    "email_change_requested": "New notice e-mail asked for: link mailed",
    "subadmin_created": "Sub-Admin added",
    "subadmin_updated": "Sub-Admin changed",
    "subadmin_deleted": "Sub-Admin deleted",
    "domain_created": "Domain added",
    "domain_updated": "Domain changed",
    "domain_deleted": "Domain deleted",
    "dkim_key_rotated": "DKIM key rotated",
    "dkim_old_key_removed": "Old DKIM key removed",
    "alias_domain_created": "Alias domain added",
    "alias_domain_updated": "Alias domain changed",
    "alias_domain_deleted": "Alias domain deleted",
    "mailbox_created": "Mailbox added",
    "mailbox_updated": "Mailbox changed",
    "mailbox_deleted": "Mailbox deleted (mail kept)",
    "mailbox_renamed": "Mailbox renamed",
    "mailbox_restored": "Deleted mailbox restored",
    "mailbox_purge_requested": "Deleted mailbox: purge asked for",
    "mailbox_purged": "Deleted mailbox's mail purged",
    "mailboxes_imported": "Mailboxes imported (CSV)",
    "alias_created": "Alias added",
    "alias_updated": "Alias changed",
    "alias_deleted": "Alias deleted",
    "forwarding_changed": "Forwarding changed",
    "automatic_reply_changed": "Automatic reply changed",
    "notice_sent": "Notice e-mailed",
    "notice_deferred": "Notice not sent yet: will retry",
    "notice_failed": "Notice could not be sent",
}

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
}

PURPOSES = {
    "login": "signing in",
    "disable": "turning 2FA off",
    "regenerate": "new recovery codes",
}


def event_label(event: str) -> str:
    """E.g. "2fa_failed" -> "2FA code refused"; an unknown name in plain words."""
    return EVENTS.get(event) or event.replace("_", " ").capitalize()


def events_matching(text: str) -> list[str]:
    """The event names whose words contain `text` (case-insensitive)."""
    wanted = text.casefold()
    return [name for name, label in EVENTS.items() if wanted in label.casefold()]


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
