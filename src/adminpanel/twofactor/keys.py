"""Security keys and passkeys (WebAuthn, SPEC §11) as a Factor: a person's WebAuthnKey rows.

verify() checks a signed answer under the person's lock: the challenge is spent whatever the
outcome (challenges.py), and a signature counter that does not grow is refused and logged as a
possible cloned key. The verbs that the pages call are in key_services.py.
"""

from dataclasses import dataclass
from datetime import datetime

from adminpanel import audit
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.twofactor import ceremony, challenges
from adminpanel.twofactor.factors import Factor, Locked, Verdict
from adminpanel.twofactor.models import WebAuthnKey

NOT_REGISTERED = "This security key is not registered for this account."
CLONED = (
    "This security key's signature counter went backwards, so it may have been copied. It was "
    "refused: use another key or a recovery code, and remove this key."
)


@dataclass(frozen=True)
class KeyAnswer:
    """A signed answer and what it must match: the session's binding (for a passkey sign-in,
    the browser's ticket) and the relying party."""

    answer: ceremony.Answer
    binding: str
    rp: ceremony.RelyingParty


class KeyFactor(Factor):
    method = "key"
    label = "Security key"
    model = WebAuthnKey
    can_sign = True
    logged_as = "key"  # its failures and uses say method=key in the log

    def removal(self, count: int) -> str:
        return "your security key" if count == 1 else f"all {count} security keys"

    def verify(
        self, locked: Locked, answer: object, *, purpose: str, now: datetime, context: dict
    ) -> Verdict:
        person = locked.person
        signed = answer.answer  # a KeyAnswer
        if purpose == challenges.PASSKEY:  # the binding is the browser's ticket
            expected = challenges.spend_ticket(signed, answer.binding, now)
        else:
            expected = challenges.take(
                signed, binding=answer.binding, purpose=purpose, person=person, now=now
            ).challenge
        ceremony.check_origin(signed, answer.rp)
        key = WebAuthnKey.objects.filter(credential_id=signed.credential_id).first()
        if key is None or key.person_id != person.pk:
            raise Refused("unknown_key" if key is None else "other_account", NOT_REGISTERED)
        if purpose == challenges.PASSKEY and signed.user_handle != key.user_handle:
            raise Refused("other_account", NOT_REGISTERED)
        received = ceremony.verify_assertion(
            signed,
            challenge=expected,
            rp=answer.rp,
            public_key=bytes(key.public_key),
            user_verified=purpose == challenges.PASSKEY,
        )
        if (received or key.sign_count) and received <= key.sign_count:
            audit.record(
                AuditEvent.WEBAUTHN_COUNTER_REGRESSED,
                actor=context["actor"],
                request=context["request"],
                key=key.pk,
                name=key.name,
                stored=key.sign_count,
                received=received,
            )
            raise Refused("counter_regressed", CLONED)
        key.sign_count = received
        key.last_used_at = now
        key.save(update_fields=["sign_count", "last_used_at"])
        audit.record(
            AuditEvent.WEBAUTHN_KEY_USED,
            actor=context["actor"],
            request=context["request"],
            key=key.pk,
            name=key.name,
            purpose=purpose,
        )
        return Verdict("key")


KEYS = KeyFactor()


def keys_of(person_id: int) -> list[WebAuthnKey]:
    return list(WebAuthnKey.objects.filter(person_id=person_id))
