"""Which audit events are mailed to the account they are about, and what each notice says.

One catalogue instead of a call in every service: a service records its event as it always
has, and the outbox turns the events named here into notices in the same transaction. A notice
names only facts its event carries (FACTS, AuditEvent.carries), so none is ever blank.
"""

import string
from dataclasses import dataclass

from adminpanel.audit.catalogue import AuditEvent

# What a notice's texts may name, and the details of its event each is read from; the ones read
# from none come from the row itself (the account it is about, IP, actor).
FACTS: dict[str, tuple[str, ...]] = {
    "account": (),
    "ip": (),
    "by": (),
    "regain": (),
    "new_email": ("edits",),
    "key_name": ("name",),
    "purpose": ("purpose",),
    "codes_left": ("codes_left",),
    "failures": ("failures",),
    "wait": ("wait_seconds",),
    "require_2fa": ("require_2fa_for_subadmins",),
    "old_address": ("old_address",),
    "old_address_fate": ("old_address", "old_address_kept_as_alias"),
}


@dataclass(frozen=True)
class Kind:
    """One kind of notice. Texts are str.format templates over the facts of outbox._facts."""

    subject: str
    what: str
    advice: str  # what to do if it was not you
    # Only for a sign-in from an IP address this account has not used in the last 90 days.
    new_address_only: bool = False
    # To the address the account had before this change (a new e-mail address is told to the
    # old one, so a stolen session cannot quietly redirect the notices).
    to_previous_email: bool = False
    # A notice for a mailbox's owner, mailed to that mailbox: the details key of its address.
    to_mailbox: str | None = None

    def facts(self) -> set[str]:
        """The facts its subject and texts name."""
        texts = (self.subject, self.what, self.advice)
        return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}

    def details(self) -> set[str]:
        """The details of its event that it reads."""
        read = {detail for fact in self.facts() for detail in FACTS.get(fact, ())}
        return read | ({self.to_mailbox} if self.to_mailbox else set())


REGAIN_SUBADMIN = "Ask the Admin of this panel to reset two-factor authentication for your account"
REGAIN_ADMIN = (
    "The server's operator can turn it off with `adminpanel reset-2fa {account}` on the server"
)

KINDS: dict[AuditEvent, Kind] = {
    AuditEvent.TWO_FACTOR_ENABLED: Kind(
        "Two-factor authentication was turned on",
        "Two-factor authentication was turned on for your account {account}. Signing in now "
        "needs a code from the authenticator app (or the security key) that was set up.",
        "Someone who knows your password has tied your account to their own device. {regain}, "
        "then change your password.",
    ),
    AuditEvent.TWO_FACTOR_DISABLED: Kind(
        "Two-factor authentication was turned off",
        "Two-factor authentication was turned off for your account {account}. Signing in now "
        "needs only the password.",
        "Sign in at once, change your password (Security → Password) and turn two-factor "
        "authentication on again (Security → 2FA).",
    ),
    AuditEvent.TWO_FACTOR_RESET: Kind(
        "Your two-factor authentication was reset",
        "{by} reset two-factor authentication for your account {account}: its authenticator "
        "app, security keys and recovery codes no longer work, and signing in needs only the "
        "password until you set it up again (Security → 2FA).",
        "If you did not ask for this, tell the Admin, change your password and set up "
        "two-factor authentication again.",
    ),
    AuditEvent.TWO_FACTOR_APP_ADDED: Kind(
        "An authenticator app was added",
        "An authenticator app was added to your account {account}. Its codes can now be used "
        "to sign in.",
        "Someone signed in as you has tied your account to their own app. {regain}, then "
        "change your password.",
    ),
    AuditEvent.TWO_FACTOR_APP_REPLACED: Kind(
        "Your authenticator app was replaced",
        "The authenticator app of your account {account} was replaced by a new one. The codes "
        "of the earlier app no longer work; security keys and recovery codes stay.",
        "Someone signed in as you has moved your codes to their own app. {regain}, then "
        "change your password.",
    ),
    AuditEvent.TWO_FACTOR_APP_REMOVED: Kind(
        "Your authenticator app was removed",
        "The authenticator app was removed from your account {account}. Its codes no longer "
        "work; signing in now needs a security key (or a recovery code).",
        "Sign in, change your password and check your second factors under Security → 2FA.",
    ),
    AuditEvent.WEBAUTHN_KEY_ADDED: Kind(
        "A security key was added",
        "A security key{key_name} was added to your account {account}. It can now be used to "
        "sign in.",
        "Someone signed in as you has added their own key: sign in, remove it (Security → 2FA) "
        "and change your password.",
    ),
    AuditEvent.WEBAUTHN_KEY_REMOVED: Kind(
        "A security key was removed",
        "The security key{key_name} was removed from your account {account}. It can no longer "
        "be used to sign in.",
        "Sign in, change your password and check the keys left under Security → 2FA.",
    ),
    AuditEvent.TWO_FACTOR_RECOVERY_CODE_USED: Kind(
        "A recovery code was used",
        "One of the recovery codes of your account {account} was used{purpose}. Each works "
        "only once: {codes_left} left.",
        "Someone has your password and one of your recovery codes. Sign in, change your "
        "password and generate new recovery codes (Security → 2FA).",
    ),
    AuditEvent.TWO_FACTOR_RECOVERY_CODES_REGENERATED: Kind(
        "New recovery codes were generated",
        "A new set of 10 recovery codes was generated for your account {account}. The earlier "
        "codes no longer work.",
        "Someone has your password and your second factor. {regain}, then change your password.",
    ),
    AuditEvent.PASSWORD_CHANGED: Kind(
        "Your password was changed",
        "The password of your account {account} was changed.",
        "Someone has signed in as you. {regain}, ask for a new password, and check that two-"
        "factor authentication is still yours.",
    ),
    AuditEvent.SUBADMIN_UPDATED: Kind(
        "Your password was changed",
        "{by} set a new password for your account {account}.",
        "If you did not ask for this, tell the Admin.",
    ),
    AuditEvent.PROFILE_UPDATED: Kind(
        "Your notices now go to another address",
        "The e-mail address for notices of your account {account} was changed to {new_email}. "
        "This address gets no more notices.",
        "Sign in at once, set your address again (Security → Profile) and change your password.",
        to_previous_email=True,
    ),
    AuditEvent.POLICY_CHANGED: Kind(
        "The 2FA policy was changed",
        "Require 2FA for Sub-Admins was turned {require_2fa} (Security → Policy) by your "
        "account {account}.",
        "Someone signed in as you has changed who must use two-factor authentication: sign in, "
        "set the Policy back, change your password and check Security → Sessions.",
    ),
    AuditEvent.TWO_FACTOR_THROTTLED: Kind(
        "Wrong codes were entered for your account",
        "{failures} wrong codes in a row were entered for your account {account}, so codes are "
        "refused for {wait}. Recovery codes wait too.",
        "Someone knows your password and is guessing codes: change your password now "
        "(Security → Password).",
    ),
    AuditEvent.MAILBOX_RENAMED: Kind(
        "Your mail address is now {account}",
        "{by} changed the address of your mailbox from {old_address} to {account}. Your mail "
        "and your settings moved with it. {old_address_fate}",
        "Ask the administrator of your mail why the address was changed.",
        to_mailbox="address",
    ),
    AuditEvent.APP_PASSWORDS_REVOKED: Kind(
        "The app passwords of {account} were revoked",
        "{by} revoked every app password of your mailbox {account}. Mail apps that used one "
        "can no longer sign in with it and were signed out.",
        "Create a new app password for each mail app you use (My mailbox → App passwords) and "
        "ask the administrator of your mail why they were revoked.",
        to_mailbox="address",
    ),
    AuditEvent.APP_PASSWORD_CREATED: Kind(
        "A new app password for {account}",
        "An app password was created for your mailbox {account}: a mail app can now sign in "
        "with it.",
        "Someone has signed in to your mailbox: revoke the app password (My mailbox → App "
        "passwords), change your password and turn on two-factor authentication.",
        to_mailbox="address",
    ),
    AuditEvent.APP_PASSWORD_REVOKED: Kind(
        "An app password of {account} was revoked",
        "An app password of your mailbox {account} was revoked: the mail app that used it can "
        "no longer sign in with it.",
        "Check your app passwords (My mailbox → App passwords) and change your password.",
        to_mailbox="address",
    ),
    AuditEvent.WEB_LOGIN: Kind(
        "New sign-in from {ip}",
        "Your account {account} signed in to the Admin Panel from an IP address it has not "
        "used in the last 90 days.",
        "Change your password at once and make sure two-factor authentication is on "
        "(Security → 2FA).",
        new_address_only=True,
    ),
    AuditEvent.API_LOGIN: Kind(
        "New API sign-in from {ip}",
        "Your account {account} logged in to the API from an IP address it has not used in "
        "the last 90 days.",
        "Someone has this account's password: ask the Admin to change it, and to restrict the "
        "account's Allowed IPs.",
        new_address_only=True,
    ),
}


# The same changes made to a mailbox owner's protection (SPEC §14): its rows name no account
# (the actor is the mailbox address), so the notice goes to the mailbox itself. The address is
# the event's `account` (a reset, which names whose) or else its actor's name.
MAILBOX_KINDS: dict[AuditEvent, Kind] = {
    AuditEvent.TWO_FACTOR_ENABLED: Kind(
        "Two-factor authentication was turned on for {account}",
        "Two-factor authentication was turned on for your mailbox {account}. Signing in to My "
        "mailbox now needs a code, and mail apps sign in with app passwords only.",
        "Someone who knows your password has tied your mailbox to their own device. Ask the "
        "administrator of your mail to reset two-factor authentication, then change your password.",
        to_mailbox="account",
    ),
    AuditEvent.TWO_FACTOR_DISABLED: Kind(
        "Two-factor authentication was turned off for {account}",
        "Two-factor authentication was turned off for your mailbox {account}. Signing in now "
        "needs only the password.",
        "Sign in to My mailbox at once, change your password and turn two-factor "
        "authentication on again (My mailbox → 2FA).",
        to_mailbox="account",
    ),
    AuditEvent.TWO_FACTOR_RESET: Kind(
        "Two-factor authentication of {account} was reset",
        "{by} reset two-factor authentication for your mailbox {account}: its authenticator "
        "app, security keys and recovery codes no longer work, and signing in needs only the "
        "password until you set it up again (My mailbox → 2FA).",
        "If you did not ask for this, tell the administrator of your mail, change your "
        "password and set up two-factor authentication again.",
        to_mailbox="account",
    ),
    AuditEvent.TWO_FACTOR_RECOVERY_CODE_USED: Kind(
        "A recovery code of {account} was used",
        "One of the recovery codes of your mailbox {account} was used. Each works only once.",
        "Someone has your password and one of your recovery codes. Sign in, change your "
        "password and ask the administrator of your mail to reset two-factor authentication.",
        to_mailbox="account",
    ),
    AuditEvent.MAILBOX_PASSWORD_CHANGED: Kind(
        "The password of {account} was changed",
        "The password of your mailbox {account} was changed in My mailbox.",
        "Someone has signed in as you. Ask the administrator of your mail for a new password "
        "and check that two-factor authentication is still yours.",
        to_mailbox="account",
    ),
}


def mailbox_kind_of(event: str, details: dict, actor_name: str) -> tuple[Kind, str] | None:
    """The notice to a mailbox's owner an event of a row about no account calls for, and the
    mailbox address it goes to; or None."""
    kind = MAILBOX_KINDS.get(event)
    address = details.get("account") or actor_name
    if kind is None or not isinstance(address, str) or "@" not in address:
        return None
    return kind, address


def kind_of(event: str, details: dict) -> Kind | None:
    """The notice an event calls for, or None."""
    kind = KINDS.get(event)
    if kind is None:
        return None
    if event == AuditEvent.TWO_FACTOR_THROTTLED and details.get("refused_unchecked"):
        return None  # an attempt while waiting starts no new wait: one notice per wait
    if event == AuditEvent.SUBADMIN_UPDATED and "password" not in details.get("changed", []):
        return None
    if event == AuditEvent.PROFILE_UPDATED and not previous_email(details):
        return None
    if event == "app_passwords_revoked" and not details.get("count"):
        return None  # the mailbox had none: nothing changed for its owner
    return kind


def _email_edit(details: dict) -> dict:
    edits = details.get("edits")
    change = edits.get("email") if isinstance(edits, dict) else None
    return change if isinstance(change, dict) else {}


def previous_email(details: dict) -> str:
    """The e-mail address a profile change replaced ("" when there was none)."""
    return _email_edit(details).get("from") or ""


def new_email(details: dict) -> str:
    """The e-mail address a profile change set ("none" when it was emptied)."""
    return _email_edit(details).get("to") or "none"
