"""Deleted mailboxes (SPEC §16): listed with Restore and Purge now until the mail host has
purged their mail (mailserver.purge), then forgotten.

A mailbox whose grace period is over (or whose purge was asked for) is due: the mail host may
be removing its maildir at this very moment, so it can no longer be restored. Restore is
therefore a conditional UPDATE on "not yet due", and the purge only ever takes due mailboxes:
the two can never both win.
"""

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from adminpanel import audit, clock
from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.permissions import require
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Invalid, get_by_id
from adminpanel.mail import scope
from adminpanel.mail.models import Alias, Domain, Mailbox
from adminpanel.mailserver.models import PurgedMaildir

MAIL_HOST = "mail host"  # the actor of a purge: the mail host's purge run, not a person


def forget_purged() -> int:
    """Forget the mailboxes whose maildir the mail host has removed, each logged once."""
    forgotten = 0
    purged = PurgedMaildir.objects.values_list("maildir", flat=True)
    for mailbox in Mailbox.with_deleted.filter(deleted_at__isnull=False, maildir__in=purged):
        with transaction.atomic():
            done = PurgedMaildir.objects.filter(maildir=mailbox.maildir)
            if not done.exists():
                continue  # another process forgot it first
            at = done.values_list("purged_at", flat=True).first()
            mailbox.delete()  # its owner (people.Person) goes with it
            done.delete()
            audit.record(
                AuditEvent.MAILBOX_PURGED,
                actor_name=MAIL_HOST,
                address=mailbox.address,
                purged_at=at.isoformat(timespec="seconds") if at else "",
            )
            forgotten += 1
    return forgotten


def deleted_mailboxes(actor: Account, *, search: str = "") -> QuerySet[Mailbox]:
    """Deleted mailboxes whose mail is still kept, the most recently deleted first."""
    require(actor, "users", Level.VIEW)
    forget_purged()
    query = scope.narrow(Mailbox.with_deleted.filter(deleted_at__isnull=False), actor)
    if search.strip():
        query = query.filter(deleted_address__icontains=search.strip())
    return query.select_related("domain").order_by("-deleted_at", "-pk")


def get_deleted(actor: Account, pk: object) -> Mailbox:
    require(actor, "users", Level.VIEW)
    return get_by_id(scope.narrow(Mailbox.with_deleted.filter(deleted_at__isnull=False), actor), pk)


def is_due(mailbox: Mailbox) -> bool:
    """Whether its mail may be being purged now (too late to restore)."""
    return mailbox.purge_after is None or mailbox.purge_after <= clock.now()


def restore_mailbox(actor: Account, mailbox: Mailbox, *, request=None) -> Mailbox:
    """Bring a deleted mailbox back at its address, with its mail, before it is purged."""
    require(actor, "users", Level.EDIT)
    local, _, domain_name = mailbox.deleted_address.rpartition("@")
    shown = mailbox.address
    try:
        with transaction.atomic():
            domain = Domain.objects.filter(name=domain_name).first()
            if domain is None:
                raise Invalid(
                    "", f"There is no domain {shown.rpartition('@')[2]} now. Add it, then restore."
                )
            if Mailbox.objects.filter(domain=domain, local_part__iexact=local).exists() or (
                Alias.objects.filter(domain=domain, local_part__iexact=local).exists()
            ):
                raise Invalid(
                    "",
                    f"{shown} has been given to another mailbox or alias since. Rename or "
                    "delete that one first, then restore.",
                )
            restored = Mailbox.with_deleted.filter(
                pk=mailbox.pk, deleted_at__isnull=False, purge_after__gt=clock.now()
            ).update(domain=domain, deleted_at=None, deleted_address="", purge_after=None)
            if not restored:
                raise Invalid("", f"The mail of {shown} is being purged: it cannot be restored.")
            audit.record(AuditEvent.MAILBOX_RESTORED, actor=actor, request=request, address=shown)
    except IntegrityError:
        raise Invalid("", f"{shown} has been taken again meanwhile.") from None
    mailbox.refresh_from_db()
    return mailbox


def purge_now(actor: Account, mailbox: Mailbox, *, request=None) -> None:
    """Make a deleted mailbox's mail due for the purge at once (no way back after this)."""
    require(actor, "users", Level.DELETE)
    with transaction.atomic():
        Mailbox.with_deleted.filter(pk=mailbox.pk, deleted_at__isnull=False).update(
            purge_after=clock.now()
        )
        audit.record(
            AuditEvent.MAILBOX_PURGE_REQUESTED,
            actor=actor,
            request=request,
            address=mailbox.address,
        )
