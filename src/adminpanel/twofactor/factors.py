"""What every kind of second factor is to the rest of twofactor: a `Factor` object (like
django-otp's device plugins), one per kind in its own module (app: app.py, keys: keys.py,
recovery codes: recovery.py).

A caller asks a factor whether a person has it (exists), to check an answer for a purpose
(verify, under the person's lock: services.verify), and to delete all of it; it loops over
FACTORS instead of naming a kind. Pages ask capabilities (can a person type a code, can it
sign), never kinds.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models

from adminpanel.errors import Refused
from adminpanel.people.kinds import SignsIn
from adminpanel.people.models import Person
from adminpanel.twofactor.models import CodeState


@dataclass(frozen=True)
class Verdict:
    """An accepted answer: which kind, and how many recovery codes are left."""

    kind: str  # "totp", "recovery" or "key"
    recovery_codes_left: int | None = None  # counted only when a recovery code was used
    step: int | None = None  # the TOTP step it spent (no replay), for the code state


@dataclass
class Locked:
    """A person whose row this transaction has locked (state.lock), with what the checks read
    under that lock: its code state, the kinds of factor it has, their locked_column values."""

    person: Person
    state: CodeState
    factors: list["Factor"]
    values: dict[str, object] = field(default_factory=dict)  # by Factor.method
    who: SignsIn | None = None  # an Unread's row, read with the lock (None: gone)


class Factor:
    """One kind of second factor. Subclasses set the class attributes and verify()."""

    method: str  # its name in the log and the API ("totp", "key")
    label: str  # as people read it ("Authenticator app")
    model: type[models.Model]  # its rows; each has a `person`
    can_type_code = False  # answered by typing a 6-digit code
    can_sign = False  # answered by a signature (WebAuthn)
    unlocks = False  # accepted after LOCK_AFTER failures (only recovery codes are)
    logged_as: str | None = None  # the `method` its checks add to their log rows
    # A column of its (one) row that its check reads, fetched with the person's lock.
    locked_column: str | None = None

    def exists(self, person_id: int) -> bool:
        return self.model.objects.filter(person_id=person_id).exists()

    def count(self, person_id: int) -> int:
        return self.model.objects.filter(person_id=person_id).count()

    def delete_all(self, person_id: int) -> int:
        """Every row of this kind of the person goes; call under its lock."""
        deleted, _ = self.model.objects.filter(person_id=person_id).delete()
        return deleted

    def missing(self) -> Refused | None:
        """The refusal of an answer of this kind from a person who has none (not counted),
        or None to let verify() say what is wrong."""
        return None

    def removal(self, count: int) -> str:
        """What disabling 2FA removes of it, e.g. "your authenticator app"."""
        raise NotImplementedError

    def verify(
        self, locked: Locked, answer: object, *, purpose: str, now: datetime, context: dict
    ) -> Verdict:
        """Check an answer of this kind against the locked person (state.lock); Refused when
        it fails."""
        raise NotImplementedError
