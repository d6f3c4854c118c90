"""The audit events: every name the log records, its words on the Logs page and its groups.

One enumeration (like Zulip's AuditLogEventType): services record a member, never a string, and
Home, the chart, the metrics and the notices key on members and groups instead of lists of their
own. A value is the name stored in each row since the event was first recorded: never change
one (stored rows, the Logs filter, the CSV export and the API read it), and keep a member whose
event is no longer recorded, so its old rows keep their words.

A member says whom its rows are about (`Subject`) and which details every row of it carries
(`carries`): record() refuses a row without them, so a reader (a notice) may name only those.
A new kind of person (mailbox owners, SPEC §14) adds its own members: its sign-ins join the
same groups and a channel of LOGIN_EVENTS, and what they are about is one more Subject.
"""

from dataclasses import dataclass
from enum import StrEnum


class Group(StrEnum):
    """Events read together. A member belongs to any number of groups."""

    SIGN_IN = "sign_in"  # a complete sign-in (after the second factor, if any)
    LOGIN_FAILURE = "login_failure"  # a wrong username or password (the Logs chart)
    CODE_FAILURE = "code_failure"  # a wrong second-factor code (the Logs chart)
    FAILURE = "failure"  # a failed or refused way in: Home's recent failures (the Admin's)
    FAILED_ATTEMPT = "failed_attempt"  # at one account's secrets: Home's "after the fact"


class Subject(StrEnum):
    """Which account a row is about (its `about_account`), filled by record()."""

    ACTOR = "actor"  # the account that acted: its own sign-in, 2FA, password, profile
    NAMED = "named"  # another account, named by the caller (about_account=)
    NONE = "none"  # no account: mail data, the notice sender's own work on mail data


ACTOR, NAMED, NONE = Subject.ACTOR, Subject.NAMED, Subject.NONE
SIGN_IN, LOGIN_FAILURE, CODE_FAILURE = Group.SIGN_IN, Group.LOGIN_FAILURE, Group.CODE_FAILURE
FAILURE, FAILED_ATTEMPT = Group.FAILURE, Group.FAILED_ATTEMPT


@dataclass(frozen=True)
class Entry:
    """One line of the catalogue, as written below."""

    name: str  # stored in the row: never changes
    label: str  # the Logs page's words
    about: Subject
    groups: frozenset[Group] = frozenset()
    carries: tuple[str, ...] = ()  # details every row of it holds


class AuditEvent(StrEnum):
    """Each audit event. Member names are the stored names in capitals, 2FA as TWO_FACTOR."""

    label: str
    about: Subject
    groups: frozenset[Group]
    carries: tuple[str, ...]

    def __new__(cls, entry: Entry):
        member = str.__new__(cls, entry.name)
        member._value_ = entry.name
        member.label = entry.label
        member.about = entry.about
        member.groups = entry.groups
        member.carries = entry.carries
        return member

    # --- signing in and out ---------------------------------------------------------------
    WEB_LOGIN = Entry("web_login", "Signed in", ACTOR, frozenset({SIGN_IN}))
    WEB_LOGIN_PASSWORD_ACCEPTED = Entry(
        "web_login_password_accepted", "Password accepted: 2FA step next", ACTOR
    )
    WEB_LOGIN_TWO_FACTOR_NOT_COMPLETED = Entry(
        "web_login_2fa_not_completed", "Sign-in not completed: 2FA step ended", ACTOR
    )
    WEB_LOGIN_FAILED = Entry(
        "web_login_failed",
        "Sign-in refused: wrong password",
        ACTOR,
        frozenset({LOGIN_FAILURE, FAILURE, FAILED_ATTEMPT}),
    )
    WEB_LOGIN_REFUSED = Entry("web_login_refused", "Sign-in refused", ACTOR, frozenset({FAILURE}))
    WEB_LOGIN_THROTTLED = Entry(
        "web_login_throttled",
        "Sign-in paused: too many attempts",
        ACTOR,
        frozenset({FAILURE, FAILED_ATTEMPT}),
    )
    PASSKEY_SIGN_IN = Entry("passkey_sign_in", "Signed in with a passkey", ACTOR)
    PASSKEY_LOGIN_FAILED = Entry("passkey_login_failed", "Passkey sign-in refused", ACTOR)
    WEB_LOGOUT = Entry("web_logout", "Signed out", ACTOR)
    WEB_SESSION_ENDED = Entry("web_session_ended", "Session ended", ACTOR)
    WEB_SESSIONS_ENDED = Entry("web_sessions_ended", "Sessions ended", NAMED)
    ACCESS_CONFIRMED = Entry("access_confirmed", "Access confirmed", ACTOR)
    ACCESS_CONFIRM_FAILED = Entry(
        "access_confirm_failed",
        "Confirm access refused: wrong password",
        ACTOR,
        frozenset({FAILED_ATTEMPT}),
    )
    ACCESS_CONFIRM_THROTTLED = Entry(
        "access_confirm_throttled", "Confirm access paused: too many attempts", ACTOR
    )

    # --- the API --------------------------------------------------------------------------
    API_LOGIN = Entry("api_login", "API sign-in", ACTOR, frozenset({SIGN_IN}))
    API_LOGIN_FAILED = Entry(
        "api_login_failed",
        "API sign-in refused: wrong password",
        ACTOR,
        frozenset({LOGIN_FAILURE, FAILURE, FAILED_ATTEMPT}),
    )
    API_LOGIN_REFUSED = Entry(
        "api_login_refused", "API sign-in refused", ACTOR, frozenset({FAILURE})
    )
    API_LOGIN_THROTTLED = Entry(
        "api_login_throttled",
        "API sign-in paused: too many attempts",
        ACTOR,
        frozenset({FAILURE, FAILED_ATTEMPT}),
    )
    API_LOGOUT = Entry("api_logout", "API token ended by sign-out", ACTOR)
    API_TOKEN_REFUSED = Entry("api_token_refused", "API token refused", ACTOR)
    API_TOKEN_REVOKED = Entry("api_token_revoked", "API tokens revoked", NAMED)
    # API keys (SPEC §17): about the API Sub-Admin the key acts as.
    API_KEY_CREATED = Entry(
        "api_key_created", "API key created", NAMED, carries=("api_key", "subadmin")
    )
    API_KEY_REVOKED = Entry(
        "api_key_revoked", "API key revoked", NAMED, carries=("api_key", "subadmin", "reason")
    )
    API_KEY_REFUSED = Entry(
        "api_key_refused", "API key refused", ACTOR, carries=("api_key", "reason")
    )

    # --- the second factor ----------------------------------------------------------------
    TWO_FACTOR_SETUP_STARTED = Entry("2fa_setup_started", "2FA setup started", ACTOR)
    TWO_FACTOR_ENABLED = Entry("2fa_enabled", "2FA enabled", ACTOR)
    TWO_FACTOR_DISABLED = Entry("2fa_disabled", "2FA disabled", ACTOR)
    TWO_FACTOR_FAILED = Entry(
        "2fa_failed",
        "2FA code refused",
        ACTOR,
        frozenset({CODE_FAILURE, FAILURE, FAILED_ATTEMPT}),
    )
    TWO_FACTOR_THROTTLED = Entry(
        "2fa_throttled",
        "2FA codes paused: too many wrong codes",
        ACTOR,
        carries=("failures", "wait_seconds"),
    )
    TWO_FACTOR_RECOVERY_CODE_USED = Entry(
        "2fa_recovery_code_used", "Recovery code used", ACTOR, carries=("codes_left", "purpose")
    )
    TWO_FACTOR_RECOVERY_CODES_REGENERATED = Entry(
        "2fa_recovery_codes_regenerated", "New recovery codes generated", ACTOR
    )
    TWO_FACTOR_RESET = Entry("2fa_reset", "2FA reset", NAMED)
    TWO_FACTOR_APP_ADDED = Entry("2fa_app_added", "Authenticator app added", ACTOR)
    TWO_FACTOR_APP_REPLACED = Entry("2fa_app_replaced", "Authenticator app replaced", ACTOR)
    TWO_FACTOR_APP_REMOVED = Entry("2fa_app_removed", "Authenticator app removed", ACTOR)
    WEBAUTHN_KEY_ADDED = Entry("webauthn_key_added", "Security key added", ACTOR, carries=("name",))
    WEBAUTHN_KEY_REFUSED = Entry("webauthn_key_refused", "Security key not added: refused", ACTOR)
    WEBAUTHN_KEY_REMOVED = Entry(
        "webauthn_key_removed", "Security key removed", ACTOR, carries=("name",)
    )
    WEBAUTHN_KEY_USED = Entry("webauthn_key_used", "Security key used", ACTOR)
    WEBAUTHN_COUNTER_REGRESSED = Entry(
        "webauthn_counter_regressed",
        "Security key refused: possibly cloned",
        ACTOR,
        frozenset({FAILURE, FAILED_ATTEMPT}),
    )

    # --- accounts -------------------------------------------------------------------------
    ADMIN_CREATED = Entry("admin_created", "Admin created", ACTOR)
    PASSWORD_CHANGED = Entry("password_changed", "Password changed", ACTOR)
    PASSWORD_CHANGE_FAILED = Entry(
        "password_change_failed", "Password change refused: wrong current password", ACTOR
    )
    PASSWORD_CHANGE_THROTTLED = Entry(
        "password_change_throttled", "Password change paused: too many attempts", ACTOR
    )
    PROFILE_UPDATED = Entry("profile_updated", "Profile changed", ACTOR, carries=("edits",))
    EMAIL_CHANGE_REQUESTED = Entry(
        "email_change_requested", "New notice e-mail asked for: link mailed", ACTOR
    )
    POLICY_CHANGED = Entry(
        "policy_changed", "2FA policy changed", ACTOR, carries=("require_2fa_for_subadmins",)
    )
    SUBADMIN_CREATED = Entry("subadmin_created", "Sub-Admin added", NAMED)
    SUBADMIN_UPDATED = Entry("subadmin_updated", "Sub-Admin changed", NAMED, carries=("changed",))
    SUBADMIN_DELETED = Entry("subadmin_deleted", "Sub-Admin deleted", NAMED)

    # --- mail data ------------------------------------------------------------------------
    DOMAIN_CREATED = Entry("domain_created", "Domain added", NONE)
    DOMAIN_UPDATED = Entry("domain_updated", "Domain changed", NONE)
    DOMAIN_DELETED = Entry("domain_deleted", "Domain deleted", NONE)
    DKIM_KEY_ROTATED = Entry(
        "dkim_key_rotated", "DKIM key rotated", NONE, carries=("domain", "selector")
    )
    DKIM_OLD_KEY_REMOVED = Entry(
        "dkim_old_key_removed", "Old DKIM key removed", NONE, carries=("domain", "selectors")
    )
    ALIAS_DOMAIN_CREATED = Entry("alias_domain_created", "Alias domain added", NONE)
    ALIAS_DOMAIN_UPDATED = Entry("alias_domain_updated", "Alias domain changed", NONE)
    ALIAS_DOMAIN_DELETED = Entry("alias_domain_deleted", "Alias domain deleted", NONE)
    MAILBOX_CREATED = Entry("mailbox_created", "Mailbox added", NONE)
    MAILBOX_UPDATED = Entry("mailbox_updated", "Mailbox changed", NONE)
    MAILBOX_DELETED = Entry("mailbox_deleted", "Mailbox deleted (mail kept)", NONE)
    MAILBOX_RENAMED = Entry(
        "mailbox_renamed",
        "Mailbox renamed",
        NONE,
        carries=("address", "old_address", "old_address_kept_as_alias"),
    )
    MAILBOX_RESTORED = Entry("mailbox_restored", "Deleted mailbox restored", NONE)
    MAILBOX_PURGE_REQUESTED = Entry(
        "mailbox_purge_requested", "Deleted mailbox: purge asked for", NONE
    )
    MAILBOX_PURGED = Entry("mailbox_purged", "Deleted mailbox's mail purged", NONE)
    MAILBOXES_IMPORTED = Entry("mailboxes_imported", "Mailboxes imported (CSV)", NONE)
    ALIAS_CREATED = Entry("alias_created", "Alias added", NONE)
    ALIAS_UPDATED = Entry("alias_updated", "Alias changed", NONE)
    ALIAS_DELETED = Entry("alias_deleted", "Alias deleted", NONE)
    FORWARDING_CHANGED = Entry("forwarding_changed", "Forwarding changed", NONE)
    AUTOMATIC_REPLY_CHANGED = Entry("automatic_reply_changed", "Automatic reply changed", NONE)

    # --- mail apps (app passwords, IMAP and SMTP logins; the actor is the mailbox address) ---
    APP_PASSWORD_CREATED = Entry(
        "app_password_created", "App password created", NONE, carries=("address", "name")
    )
    APP_PASSWORD_REVOKED = Entry(
        "app_password_revoked", "App password revoked", NONE, carries=("address", "name")
    )
    APP_PASSWORDS_REVOKED = Entry(
        "app_passwords_revoked", "All app passwords revoked", NONE, carries=("address",)
    )
    MAIL_LOGIN = Entry("mail_login", "Mail app signed in", NONE, carries=("protocol",))
    MAIL_LOGIN_FAILED = Entry(
        "mail_login_failed", "Mail app sign-in refused", NONE, carries=("protocol", "attempts")
    )
    MAIL_LOGIN_THROTTLED = Entry(
        "mail_login_throttled",
        "Mail app sign-ins paused: too many attempts",
        NONE,
        carries=("protocol", "attempts"),
    )

    # --- My mailbox (SPEC §14): the owner acts, named by the mailbox address -----------------
    MAILBOX_LOGIN = Entry("mailbox_login", "My mailbox: signed in", ACTOR, frozenset({SIGN_IN}))
    MAILBOX_LOGIN_FAILED = Entry(
        "mailbox_login_failed",
        "My mailbox: sign-in refused: wrong password",
        ACTOR,
        frozenset({LOGIN_FAILURE}),
    )
    MAILBOX_LOGIN_REFUSED = Entry("mailbox_login_refused", "My mailbox: sign-in refused", ACTOR)
    MAILBOX_LOGIN_THROTTLED = Entry(
        "mailbox_login_throttled", "My mailbox: sign-in paused: too many attempts", ACTOR
    )
    MAILBOX_LOGOUT = Entry("mailbox_logout", "My mailbox: signed out", ACTOR)
    MAILBOX_SESSIONS_ENDED = Entry(
        "mailbox_sessions_ended",
        "My mailbox: sessions ended",
        NONE,
        carries=("mailbox", "reason", "sessions"),
    )
    MAILBOX_PASSWORD_CHANGED = Entry(
        "mailbox_password_changed", "My mailbox: password changed", ACTOR
    )
    MAILBOX_PASSWORD_CHANGE_FAILED = Entry(
        "mailbox_password_change_failed",
        "My mailbox: password change refused: wrong current password",
        ACTOR,
    )
    MAILBOX_PASSWORD_REHASHED = Entry(
        "mailbox_password_rehashed", "Imported password hash replaced by Argon2id", ACTOR
    )

    # --- notices (the sender's work: about the account a notice was for) -------------------
    NOTICE_SENT = Entry("notice_sent", "Notice e-mailed", NAMED)
    NOTICE_DEFERRED = Entry("notice_deferred", "Notice not sent yet: will retry", NAMED)
    NOTICE_FAILED = Entry("notice_failed", "Notice could not be sent", NAMED)


def in_group(group: Group) -> tuple[AuditEvent, ...]:
    """The members of a group, in catalogue order (e.g. for `event__in=`)."""
    return tuple(event for event in AuditEvent if group in event.groups)


@dataclass(frozen=True)
class LoginEvents:
    """The outcomes of one channel's password step."""

    succeeded: AuditEvent  # a complete sign-in
    failed: AuditEvent  # wrong username or password
    refused: AuditEvent  # the right password, refused (IP, access, policy)
    throttled: AuditEvent  # too many attempts: a wait begins


# The password step's events by channel (login.services: "web", "api" or "mailbox").
LOGIN_EVENTS = {
    "web": LoginEvents(
        AuditEvent.WEB_LOGIN,
        AuditEvent.WEB_LOGIN_FAILED,
        AuditEvent.WEB_LOGIN_REFUSED,
        AuditEvent.WEB_LOGIN_THROTTLED,
    ),
    "api": LoginEvents(
        AuditEvent.API_LOGIN,
        AuditEvent.API_LOGIN_FAILED,
        AuditEvent.API_LOGIN_REFUSED,
        AuditEvent.API_LOGIN_THROTTLED,
    ),
    "mailbox": LoginEvents(
        AuditEvent.MAILBOX_LOGIN,
        AuditEvent.MAILBOX_LOGIN_FAILED,
        AuditEvent.MAILBOX_LOGIN_REFUSED,
        AuditEvent.MAILBOX_LOGIN_THROTTLED,
    ),
}
