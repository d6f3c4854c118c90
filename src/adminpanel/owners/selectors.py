"""What My mailbox shows its owner (SPEC §14): storage, last sign-ins, its own events."""

from django.db.models import Q, QuerySet

from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.models import Event
from adminpanel.mail.models import Mailbox
from adminpanel.mailserver.models import MailboxUsage

LAST_SIGN_INS = 5


def dovecot_name(mailbox: Mailbox) -> str:
    """The address as the mail servers know it (lower case, A-label): the mail apps' events."""
    return f"{mailbox.local_part.lower()}@{mailbox.domain.name}"


def storage_used(mailbox: Mailbox) -> int | None:
    """Bytes as Dovecot last reported them; None before any report."""
    return (
        MailboxUsage.objects.filter(address=dovecot_name(mailbox))
        .values_list("bytes", flat=True)
        .first()
    )


def activity(mailbox: Mailbox) -> QuerySet[Event]:
    """The owner's own events, newest first: its web sign-ins and their failures, its 2FA and
    app passwords, its mail apps' logins. Rows with an account as actor are not the owner's
    (an Admin's username may look like an address)."""
    names = {mailbox.address[:150], dovecot_name(mailbox)[:150]}
    # All of them carry the mailbox's domain (audit.domain_of): its (domain, at) index leaves
    # the domain's events to look through, not the whole log.
    return Event.objects.filter(
        Q(actor_name__in=names, actor__isnull=True) | Q(details__address__in=list(names)),
        domain=mailbox.domain.name,
    ).order_by("-at", "-id")


def last_sign_ins(mailbox: Mailbox) -> dict[str, list[Event]]:
    """The last few sign-ins of the web (My mailbox) and of the mail apps."""
    mine = activity(mailbox)
    return {
        "web": list(mine.filter(event=AuditEvent.MAILBOX_LOGIN)[:LAST_SIGN_INS]),
        "mail": list(mine.filter(event=AuditEvent.MAIL_LOGIN)[:LAST_SIGN_INS]),
    }
