"""Recovery codes (SPEC §4): ten one-time codes of 80 bits, stored as salted password hashes.

Not a method of their own: they come with a person's first factor and go with its last. As a
Factor they answer in place of any other kind, and are the only answer accepted after the
lock (state.LOCK_AFTER failures). Called by twofactor's services under the person's lock.
"""

import secrets
from datetime import datetime

from django.contrib.auth.hashers import check_password, make_password

from adminpanel import audit
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.twofactor import totp
from adminpanel.twofactor.factors import Factor, Locked, Verdict
from adminpanel.twofactor.models import RecoveryCode

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: 16 chars = 80 bits
RECOVERY_LENGTH = 16


def as_recovery_code(compact: str) -> str | None:
    """The canonical form of a typed recovery code (i, l → 1; o → 0), or None if it is not one."""
    if len(compact) != RECOVERY_LENGTH:
        return None
    value = compact.lower().translate(str.maketrans("ilo", "110"))
    return value if all(c in RECOVERY_ALPHABET for c in value) else None


def new_codes() -> tuple[list[str], list[str]]:
    """(codes to show once, their salted hashes). Hashing happens outside any lock."""
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    return codes, [make_password(code) for code in codes]


def store(person_id: int, hashes: list[str]) -> None:
    """Replace the person's set with the new one."""
    RecoveryCode.objects.filter(person_id=person_id).delete()
    RecoveryCode.objects.bulk_create(RecoveryCode(person_id=person_id, code_hash=h) for h in hashes)


def use(person_id: int, value: str, now: datetime) -> bool:
    """Spend the unused code `value` is; False when it is none of them."""
    for code in RecoveryCode.objects.filter(person_id=person_id, used_at__isnull=True):
        if check_password(value, code.code_hash):
            code.used_at = now
            code.save(update_fields=["used_at"])
            return True
    return False


def left(person_id: int) -> int:
    return RecoveryCode.objects.filter(person_id=person_id, used_at__isnull=True).count()


def formatted(codes: list[str]) -> list[str]:
    """Codes as people read them: four groups of four, joined by dashes."""
    return ["-".join(code[i : i + 4] for i in range(0, len(code), 4)) for code in codes]


class RecoveryFactor(Factor):
    method = "recovery"
    label = "Recovery code"
    model = RecoveryCode
    unlocks = True

    def removal(self, count: int) -> str:
        return "all recovery codes"

    def verify(
        self, locked: Locked, answer: object, *, purpose: str, now: datetime, context: dict
    ) -> Verdict:
        if not use(locked.person.pk, answer, now):
            raise Refused("invalid", totp.INVALID)
        codes_left = left(locked.person.pk)
        audit.record(AuditEvent.TWO_FACTOR_RECOVERY_CODE_USED, codes_left=codes_left, **context)
        return Verdict("recovery", codes_left)


RECOVERY = RecoveryFactor()
