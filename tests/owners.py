"""Mailbox owners for tests: the owner of a mailbox as the second factor and the login see it
(owners.owner.Owner), and 2FA turned on through the product's own setup service."""

from django.test import Client

from adminpanel.mail.models import Mailbox
from adminpanel.owners.owner import Owner
from tests.factors import TwoFactor, enable_2fa


def owner_of(mailbox: Mailbox) -> Owner:
    return Owner(Mailbox.with_deleted.select_related("domain").get(pk=mailbox.pk))


def owner_with_2fa(mailbox: Mailbox, clock) -> TwoFactor:
    """The mailbox's owner with an authenticator app (TwoFactor.account is the Owner)."""
    return enable_2fa(owner_of(mailbox), clock)


OWNER_PASSWORD = "Mailbox-Cobalt-Harbor-27"


def owner_log_in(client: Client, address: str, password: str = OWNER_PASSWORD, **extra):
    """The password step of My mailbox's sign-in (/mailbox/login)."""
    return client.post("/mailbox/login", {"username": address, "password": password}, **extra)


def owner_verify(client: Client, challenge: str, **extra):
    """The Verify button of My mailbox's 2FA pop-up."""
    return client.post("/mailbox/login/verify", {"challenge": challenge}, **extra)


def owner_signed_in(client: Client, **extra) -> bool:
    return client.get("/mailbox/", **extra).status_code == 200
