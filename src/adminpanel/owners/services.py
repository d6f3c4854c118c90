"""What an owner changes in My mailbox that is not its second factor or its mail apps (those
are twofactor's and mail.app_passwords'): its password, its sessions."""

from django.db import transaction
from django.http import HttpRequest

from adminpanel import audit, clock
from adminpanel.accounts import guessing
from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.permissions import require
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.mail.models import Mailbox
from adminpanel.mail.owner_passwords import change_mailbox_password
from adminpanel.net import client_ip
from adminpanel.owners import sessions
from adminpanel.owners.door import OWNERS
from adminpanel.owners.owner import Owner
from adminpanel.twofactor import interface as twofactor

WRONG_CURRENT = "This is not your current password."


def change_password(owner: Owner, current: str, new: str, *, request: HttpRequest) -> None:
    """The owner's new password, after its current one (counted in the sign-in's limits, so
    a session cannot guess through it); the owner's other sessions and the mailbox's open IMAP
    sessions end. Refused (wrong current password, too many attempts); Invalid (a weak one)."""
    ip, name = client_ip(request), owner.mailbox.address.lower()
    try:
        OWNERS.take_slots(owner, name, ip, clock.now())
    except guessing.TooManyAttempts as refusal:
        raise Refused(
            "too_many_attempts", refusal.message, retry_after=refusal.retry_after
        ) from None
    if not OWNERS.check_password(owner, current):
        audit.record(AuditEvent.MAILBOX_PASSWORD_CHANGE_FAILED, actor=owner, request=request)
        raise Refused("wrong_password", WRONG_CURRENT)
    OWNERS.release_slots(owner, name, ip)
    with transaction.atomic():
        change_mailbox_password(owner.mailbox, new)
        sessions.end_other_sessions(owner.mailbox, reason="password_changed", request=request)
        audit.record(AuditEvent.MAILBOX_PASSWORD_CHANGED, actor=owner, request=request)


def nothing_to_reset(mailbox: Mailbox) -> Refused:
    """The answer to Reset 2FA of a mailbox whose owner has no 2FA (web and API alike)."""
    return Refused(
        "two_factor_not_enabled",
        f"The owner of {mailbox.address} has no two-factor authentication: there is nothing "
        "to reset.",
    )


def reset_owner_2fa(actor: Account, mailbox: Mailbox, *, request: HttpRequest | None = None):
    """Users: Edit → Reset 2FA (SPEC §14): the owner's app, keys and recovery codes go, its
    sessions end, the mailbox password opens mail apps again where the domain allows it; logged
    with the Admin as actor and mailed to the mailbox (notices). Refused (nothing_to_reset)
    when the owner has no 2FA: nothing is logged or mailed."""
    require(actor, "users", Level.EDIT)
    twofactor.reset(
        Owner(mailbox), actor=actor, request=request, nothing_to_reset=nothing_to_reset(mailbox)
    )
