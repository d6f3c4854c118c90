"""DKIM keys of the panel's domains (SPEC §15). The only writer of DkimKey.

A key is made with its domain (RSA 2048); the newest key of a domain signs. Rotate DKIM key
adds a new key under a new selector, which signs from then on; the old one stays published
(mail signed with it still verifies) until Remove old key. The private key is kept encrypted
with DKIM_ENCRYPTION_KEYS and never leaves the panel except, through the contract view
mailserver_dkim_keys, to the mail host's signer (mailserver.dkim), which holds those keys.
"""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import transaction

from adminpanel import audit, clock, crypto
from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.permissions import require
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.mail.models import DkimKey, Domain

# Old keys a domain may keep published at once: each rotation adds one, Remove old key ends
# them. A client rotating in a loop must not grow the DNS records without end.
MAX_OLD_KEYS = 3


def new_key_pair() -> tuple[str, str]:
    """(private key as base64 PKCS#8 DER, public key as base64 SubjectPublicKeyInfo DER)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=settings.DKIM_KEY_BITS)
    private = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def _new_selector(domain: Domain) -> str:
    """ "apYYYYMMDD" (the day it was made: an operator sees how old a published key is), with
    "-2", "-3"… on a second rotation the same day."""
    base = clock.now().strftime("ap%Y%m%d")
    taken = set(DkimKey.objects.filter(domain=domain).values_list("selector", flat=True))
    selector, n = base, 1
    while selector in taken:
        n += 1
        selector = f"{base}-{n}"
    return selector


def add_key(domain: Domain, pair: tuple[str, str]) -> DkimKey:
    """A new key for the domain from new_key_pair(), signing from the commit on (the caller's
    transaction). The pair is made before the transaction: 50 ms of RSA is no time to hold
    the database's write lock (SQLite has one for everybody)."""
    private, public = pair
    return DkimKey.objects.create(
        domain=domain,
        selector=_new_selector(domain),
        private_key=crypto.encrypt(private, settings.DKIM_ENCRYPTION_KEYS),
        public_key=public,
    )


def keys_of(domain: Domain) -> list[DkimKey]:
    """The domain's keys, the signing one (newest) first."""
    return list(DkimKey.objects.filter(domain=domain).order_by("-id"))


def rotate(actor: Account, domain: Domain, *, request=None) -> DkimKey:
    """Rotate DKIM key: a new selector signs from now on; the old key stays in the DNS records
    until remove_old_keys. Refused while MAX_OLD_KEYS old keys wait for removal."""
    require(actor, "domains", Level.EDIT)
    pair = new_key_pair()
    with transaction.atomic():
        # The domain's row locked: two rotations at once make two keys one after the other.
        locked = Domain.objects.select_for_update().get(pk=domain.pk)
        old = DkimKey.objects.filter(domain=locked).count()
        if old > MAX_OLD_KEYS:
            raise Refused(
                "old_dkim_keys",
                f"{locked.display_name} still publishes {old - 1} old DKIM keys: remove the "
                "old keys before rotating again.",
            )
        key = add_key(locked, pair)
        audit.record(
            AuditEvent.DKIM_KEY_ROTATED,
            actor=actor,
            request=request,
            domain=locked.name,
            selector=key.selector,
        )
    return key


def remove_old_keys(actor: Account, domain: Domain, *, request=None) -> list[str]:
    """Remove old key: every key of the domain but the signing one leaves the DNS records.
    Returns the selectors removed (none when there was no old key)."""
    require(actor, "domains", Level.EDIT)
    with transaction.atomic():
        locked = Domain.objects.select_for_update().get(pk=domain.pk)
        keys = keys_of(locked)
        old = keys[1:]
        if old:
            DkimKey.objects.filter(pk__in=[k.pk for k in old]).delete()
            audit.record(
                AuditEvent.DKIM_OLD_KEY_REMOVED,
                actor=actor,
                request=request,
                domain=locked.name,
                selectors=[k.selector for k in old],
            )
    return [k.selector for k in old]
