"""Mailbox owners for tests: the owner of a mailbox as the second factor and the login see it
(owners.owner.Owner), and 2FA turned on through the product's own setup service."""

from adminpanel.mail.models import Mailbox
from adminpanel.owners.owner import Owner
from tests.factors import TwoFactor, enable_2fa


def owner_of(mailbox: Mailbox) -> Owner:
    return Owner(Mailbox.with_deleted.select_related("domain").get(pk=mailbox.pk))


def owner_with_2fa(mailbox: Mailbox, clock) -> TwoFactor:
    """The mailbox's owner with an authenticator app (TwoFactor.account is the Owner)."""
    return enable_2fa(owner_of(mailbox), clock)
