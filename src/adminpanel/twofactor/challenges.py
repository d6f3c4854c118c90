"""The WebAuthn challenge table (SPEC §11): a challenge is random, bound to one session (a
passkey sign-in's: to a signed cookie, so that anonymous visitors store nothing) and one
purpose, lives 5 minutes and is accepted once.
"""

import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.crypto import constant_time_compare
from webauthn.helpers import bytes_to_base64url

from adminpanel.errors import Refused
from adminpanel.people.models import Person
from adminpanel.twofactor.ceremony import Answer
from adminpanel.twofactor.models import WebAuthnChallenge

# Purposes a challenge can be made for; an answer is accepted only for its own.
REGISTER = "register"
LOGIN = "login"  # the second step after the password
PASSKEY = "passkey"  # sign-in with a passkey alone
DISABLE = "disable"  # turning 2FA off (removing the last key)
CONFIRM = "confirm"  # Confirm access (SPEC §12)
REGENERATE = "regenerate"  # Generate new recovery codes
PURPOSES = (REGISTER, LOGIN, PASSKEY, DISABLE, CONFIRM, REGENERATE)

SESSION_BINDING = "webauthn_binding"
# A passkey sign-in starts before any session: its challenge travels in a signed cookie (the
# browser's binding) and gets a row only when an answer spends it.
PASSKEY_COOKIE = "adminpanel_passkey"
PASSKEY_SALT = "adminpanel.twofactor.passkey-challenge"
CHALLENGE_BYTES = 32
AGAIN = "Try again."
ENDED = f"This request was replaced or has ended. {AGAIN}"
REPLAYED = f"This security key answer has already been used. {AGAIN}"
EXPIRED = f"The security key request expired (5 minutes). {AGAIN}"


def session_binding(session) -> str:
    """The random token that ties this session's challenges to it (made on first use)."""
    token = session.get(SESSION_BINDING)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[SESSION_BINDING] = token
    return token


def _random() -> str:
    return bytes_to_base64url(secrets.token_bytes(CHALLENGE_BYTES))


def new(
    binding: str, purpose: str, person: Person | None, now: datetime, user_handle: str = ""
) -> WebAuthnChallenge:
    """A fresh challenge for this session and purpose, replacing its earlier one."""
    with transaction.atomic():
        WebAuthnChallenge.objects.filter(expires_at__lt=now).delete()  # expired ones are dead
        WebAuthnChallenge.objects.filter(
            binding=binding, purpose=purpose, used_at__isnull=True
        ).delete()
        return WebAuthnChallenge.objects.create(
            challenge=_random(),
            binding=binding,
            purpose=purpose,
            person=person,
            user_handle=user_handle,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.WEBAUTHN_CHALLENGE_SECONDS),
        )


def take(
    answer: Answer, *, binding: str, purpose: str, person: Person | None, now: datetime
) -> WebAuthnChallenge:
    """The challenge this answer signs, spent now; Refused when it may not be used.

    Called under the person's lock, so of simultaneous answers exactly one spends it.
    """
    found = WebAuthnChallenge.objects.filter(challenge=answer.challenge).first()
    if found is None:
        raise Refused("unknown_challenge", ENDED)
    if found.binding != binding:
        raise Refused("other_session", f"This answer belongs to another session. {AGAIN}")
    person_id = person.pk if person is not None else None
    if found.purpose != purpose or found.person_id != person_id:
        raise Refused("other_purpose", f"This answer was made for another step. {AGAIN}")
    if found.used_at is not None:
        raise Refused("replayed", REPLAYED)
    if found.expires_at <= now:
        raise Refused("expired", EXPIRED)
    spent = WebAuthnChallenge.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now)
    if spent != 1:
        raise Refused("replayed", REPLAYED)
    return found


def passkey_ticket(now: datetime) -> tuple[str, str]:
    """(a new challenge, the ticket for PASSKEY_COOKIE): signed, the challenge and its end.

    No session and no row: an anonymous visitor may ask any number of times and leaves
    nothing behind; the answer spends it (spend_ticket).
    """
    challenge = _random()
    ends = now.timestamp() + settings.WEBAUTHN_CHALLENGE_SECONDS
    return challenge, signing.dumps({"challenge": challenge, "ends": ends}, salt=PASSKEY_SALT)


def spend_ticket(answer: Answer, ticket: str, now: datetime) -> str:
    """The passkey challenge this answer signs, spent now (a row that a replay runs into);
    Refused when the browser's ticket is not for it. Called under the person's lock."""
    try:
        data = signing.loads(ticket, salt=PASSKEY_SALT)
        challenge, ends = str(data["challenge"]), float(data["ends"])
    except (signing.BadSignature, TypeError, KeyError, ValueError):
        raise Refused("unknown_challenge", ENDED) from None
    if not constant_time_compare(challenge, answer.challenge):
        raise Refused("unknown_challenge", ENDED)
    if ends <= now.timestamp():
        raise Refused("expired", EXPIRED)
    try:
        with transaction.atomic():  # a savepoint: a replay's conflict leaves the rest intact
            WebAuthnChallenge.objects.filter(expires_at__lt=now).delete()
            WebAuthnChallenge.objects.create(
                challenge=challenge,
                purpose=PASSKEY,
                created_at=now,
                expires_at=datetime.fromtimestamp(ends, UTC),
                used_at=now,
            )
    except IntegrityError:
        raise Refused("replayed", REPLAYED) from None
    return challenge
