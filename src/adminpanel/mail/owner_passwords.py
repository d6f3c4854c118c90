"""A mailbox password as its owner uses it (SPEC §14, §16): checked at the web sign-in of My
mailbox, whether the panel's Argon2id or a hash imported in Dovecot's form (mail.mailbox_csv),
which is replaced by Argon2id at that sign-in; and changed by the owner (current and new).
"""

import hmac

import legacycrypt  # the C library's crypt(3): SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT
from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from adminpanel import audit
from adminpanel.accounts.passwords import checked_new_password
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.mail.mailbox_csv import is_imported_hash
from adminpanel.mail.models import Mailbox
from adminpanel.mailserver import end_sessions

CRYPT_SCHEMES = ("SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT")
ARGON2_SCHEMES = ("ARGON2ID", "ARGON2I")


def _imported_matches(password: str, stored: str) -> bool:
    """Whether `password` is the one of an imported `{SCHEME}hash` (the schemes the import
    accepts, mail.mailbox_csv.ACCEPTED_SCHEMES)."""
    scheme, _, body = stored[1:].partition("}")
    if scheme in CRYPT_SCHEMES:
        try:
            computed = legacycrypt.crypt(password, body)
        except (OSError, ValueError):
            return False
        return computed is not None and hmac.compare_digest(computed, body)
    if scheme in ARGON2_SCHEMES:
        try:
            return PasswordHasher().verify(body, password)
        except (Argon2Error, InvalidHashError, ValueError):
            return False
    return False


def check_mailbox_password(mailbox: Mailbox, password: str) -> bool:
    """Whether this is the mailbox's password. A right password whose stored form is an
    imported hash is re-hashed as Argon2id now (SPEC §16), the same password for Dovecot."""
    stored = mailbox.password_hash
    if not is_imported_hash(stored):
        return check_password(password, stored)
    if "\x00" in password or not _imported_matches(password, stored):
        return False
    scheme = stored[1:].partition("}")[0]
    fresh = make_password(password, hasher="argon2")
    # Only if nobody changed it meanwhile: a new password set by the Admin wins.
    rows = Mailbox.with_deleted.filter(pk=mailbox.pk, password_hash=stored)
    if rows.update(password_hash=fresh):
        audit.record(
            AuditEvent.MAILBOX_PASSWORD_REHASHED, actor_name=mailbox.address, scheme=scheme
        )
    mailbox.password_hash = fresh
    return True


def change_mailbox_password(mailbox: Mailbox, new_password: object) -> None:
    """The owner's new password (the rules of every password, SPEC §2), Argon2id; the mailbox's
    open IMAP sessions end, as when the Admin sets one."""
    fresh = make_password(checked_new_password(new_password), hasher="argon2")
    with transaction.atomic():
        Mailbox.with_deleted.filter(pk=mailbox.pk).update(password_hash=fresh)
        mailbox.password_hash = fresh
        end_sessions.request_end(f"{mailbox.local_part.lower()}@{mailbox.domain.name}")
