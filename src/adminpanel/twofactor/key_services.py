"""The verbs of security keys and passkeys (SPEC §11), beside services.py: register, check,
remove, sign in with a passkey, and turn 2FA off or regenerate codes with a key.

The ceremonies are ceremony.py's, the challenges challenges.py's, the check of a signed answer
the KEYS factor's (keys.py); every check goes through services.verify, under the person's
lock and in the one throttle of every kind. Every outcome is in the audit log.
"""

import secrets
from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, transaction
from webauthn.helpers import bytes_to_base64url

from adminpanel import audit
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused, get_by_id
from adminpanel.people.kinds import SignsIn
from adminpanel.people.models import Person
from adminpanel.twofactor import ceremony, challenges, recovery, services
from adminpanel.twofactor.ceremony import RelyingParty
from adminpanel.twofactor.factors import Locked, Verdict
from adminpanel.twofactor.keys import KEYS, KeyAnswer, keys_of
from adminpanel.twofactor.models import WebAuthnKey

LAST_FACTOR = (
    "This is your last second factor: removing it turns two-factor authentication off. "
    "Confirm with this key, or with a recovery code."
)
# Both doors say it: the Admin's asks for a username, the owner's for an email address.
PASSKEY_UNKNOWN = "This passkey is not registered here. Log in with your password instead."
ALREADY_REGISTERED = "This security key is already registered."


# --- options: what the browser is asked --------------------------------------------------------


def _user_handle(person_id: int) -> str:
    """The WebAuthn user.id of the person's keys: random, never its name; one per person."""
    existing = WebAuthnKey.objects.filter(person_id=person_id).values_list("user_handle", flat=True)
    return existing.first() or bytes_to_base64url(secrets.token_bytes(32))


def registration_options(who: SignsIn, *, session, rp: RelyingParty, now: datetime) -> str:
    """The JSON for navigator.credentials.create(): a new key for this person."""
    handle = _user_handle(who.person_id)
    person = Person(pk=who.person_id)
    binding = challenges.session_binding(session)
    challenge = challenges.new(binding, challenges.REGISTER, person, now, handle)
    existing = [k.credential_id for k in keys_of(who.person_id)]
    return ceremony.registration_options(
        rp,
        user_handle=handle,
        user_name=who.username,
        challenge=challenge.challenge,
        exclude=existing,
    )


def authentication_options(
    who: SignsIn, *, purpose: str, session, rp: RelyingParty, now: datetime
) -> str:
    """The JSON for navigator.credentials.get() with this person's keys."""
    if purpose not in challenges.PURPOSES or purpose in (challenges.REGISTER, challenges.PASSKEY):
        raise Refused("malformed", ceremony.UNREADABLE)
    allowed = [k.credential_id for k in keys_of(who.person_id)]
    if not allowed:
        raise Refused("no_keys", "This account has no security key.")
    binding = challenges.session_binding(session)
    challenge = challenges.new(binding, purpose, Person(pk=who.person_id), now)
    return ceremony.authentication_options(rp, challenge=challenge.challenge, allowed=allowed)


def passkey_options(*, rp: RelyingParty, now: datetime) -> tuple[str, str]:
    """(JSON for navigator.credentials.get() with any passkey, the ticket for PASSKEY_COOKIE)."""
    challenge, ticket = challenges.passkey_ticket(now)
    options = ceremony.authentication_options(rp, challenge=challenge, allowed=[], passkey=True)
    return options, ticket


# --- adding, checking and removing keys ------------------------------------------------------


def get_key(who: SignsIn, pk: object) -> WebAuthnKey:
    """One of this person's keys, or NotFound."""
    return get_by_id(WebAuthnKey.objects.filter(person_id=who.person_id), pk)


def _register(
    person: Person, who: SignsIn, answer: ceremony.Answer, name: str, *, binding, rp, now, request
) -> WebAuthnKey:
    """Verify a new key's answer and store it; call under the person's lock.

    Raises Refused (nothing stored) when the answer is not for this session's registration
    challenge, was made at another origin, or does not verify.
    """
    challenge = challenges.take(
        answer, binding=binding, purpose=challenges.REGISTER, person=person, now=now
    )
    ceremony.check_origin(answer, rp)
    new = ceremony.verify_registration(answer, challenge=challenge.challenge, rp=rp)
    if WebAuthnKey.objects.filter(credential_id=new.credential_id).exists():
        raise Refused("already_registered", ALREADY_REGISTERED)
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin insert stays clean
            key = WebAuthnKey.objects.create(
                person=person,
                name=name,
                credential_id=new.credential_id,
                public_key=new.public_key,
                sign_count=new.sign_count,
                user_handle=challenge.user_handle,
                created_at=now,
                # a passkey: the browser says the key keeps the person, or it syncs
                passkey=answer.discoverable or new.synced,
            )
    except IntegrityError:
        raise Refused("already_registered", ALREADY_REGISTERED) from None
    audit.record(AuditEvent.WEBAUTHN_KEY_ADDED, actor=who, request=request, key=key.pk, name=name)
    return key


def add_key(
    who: SignsIn,
    raw: object,
    name: object,
    *,
    session,
    rp: RelyingParty,
    now: datetime,
    request=None,
) -> list[str] | None:
    """Register a new security key or passkey for the person.

    When it is the person's first second factor, 2FA is now on (services.turned_on) and the 10
    recovery codes are returned, to be shown once. Otherwise returns None. Raises Invalid (the
    name) or Refused; either way nothing is stored.
    """
    clean = ceremony.clean_key_name(name)
    answer = ceremony.parse(raw, registration=True)
    binding = challenges.session_binding(session)
    # Recovery codes are hashed outside the lock, when they will probably be needed.
    prepared = recovery.new_codes() if not services.is_enabled(who) else None
    with transaction.atomic():
        locked = services.lock(who)
        person = locked.person
        first = not locked.factors
        try:
            _register(person, who, answer, clean, binding=binding, rp=rp, now=now, request=request)
        except Refused as rejection:
            # The spent challenge is committed with the log line; no key is stored.
            audit.record(
                AuditEvent.WEBAUTHN_KEY_REFUSED, actor=who, request=request, reason=rejection.reason
            )
            refused = rejection
        else:
            refused = None
            if first:
                codes, hashes = prepared or recovery.new_codes()
                services.turned_on(person, who, hashes, request=request, method="key")
    if refused is not None:
        raise refused
    return recovery.formatted(codes) if first else None


def verify_key(
    who: SignsIn,
    raw: object,
    *,
    purpose: str = challenges.LOGIN,
    session,
    rp: RelyingParty,
    now: datetime,
    request=None,
    on_success: Callable[[Locked, Verdict], None] | None = None,
) -> Verdict:
    """Accept a signed answer of one of the person's keys, once, for this session's purpose.

    on_success(locked, verdict) runs under the same lock and transaction as the check (e.g.
    turning 2FA off).
    """
    answer = KeyAnswer(
        ceremony.parse(raw, registration=False), challenges.session_binding(session), rp
    )
    return services.verify(
        who, KEYS, answer, purpose=purpose, now=now, request=request, on_success=on_success
    )


def removes_last_factor(who: SignsIn) -> bool:
    """Would removing one key turn 2FA off? (no other kind, and this is the only key)"""
    others = any(f.exists(who.person_id) for f in services.FACTORS if f is not KEYS)
    return not others and KEYS.count(who.person_id) <= 1


def remove_key(who: SignsIn, pk: object, *, request=None) -> WebAuthnKey:
    """Remove one of the person's keys; the last second factor goes only by disabling 2FA."""
    with transaction.atomic():
        services.lock(who)
        key = get_key(who, pk)
        if removes_last_factor(who):
            raise Refused("last_factor", LAST_FACTOR)
        WebAuthnKey.objects.filter(pk=key.pk, person_id=who.person_id).delete()
        audit.record(
            AuditEvent.WEBAUTHN_KEY_REMOVED, actor=who, request=request, key=key.pk, name=key.name
        )
    return key


def disable_with_key(
    who: SignsIn, raw: object, *, session, rp: RelyingParty, now: datetime, request=None
) -> None:
    """Turn 2FA off (every factor, recovery codes) when one of the person's keys signs for it."""
    verify_key(
        who,
        raw,
        purpose=challenges.DISABLE,
        session=session,
        rp=rp,
        now=now,
        request=request,
        on_success=lambda locked, verdict: services.turned_off(
            locked.person, who, request=request, method="key"
        ),
    )


def regenerate_with_key(
    who: SignsIn, raw: object, *, session, rp: RelyingParty, now: datetime, request=None
) -> list[str]:
    """New recovery codes, confirmed with one of the person's keys.

    The answer is checked and spent first (a refused one costs no hashing); the new set is then
    saved under the person's lock, as after a code (services).
    """
    accepted = verify_key(
        who,
        raw,
        purpose=challenges.REGENERATE,
        session=session,
        rp=rp,
        now=now,
        request=request,
    )
    return services.save_new_recovery_codes(who, accepted, request=request)


# --- sign in with a passkey --------------------------------------------------------------------


def sign_in_with_passkey(
    raw: object,
    *,
    ticket: str,
    rp: RelyingParty,
    admit: Callable[[Person], tuple[SignsIn | None, Refused | None]],
    now: datetime,
    request=None,
) -> SignsIn:
    """Whoever's passkey signed this answer (with user verification): both factors at once.
    `ticket`: the browser's PASSKEY_COOKIE (passkey_options).

    `admit(person)` is the sign-in's (the login knows the kinds of person it serves): whoever
    that person is, or None when it is none that signs in here, and the refusal of its
    sign-in from here (outside its allowed IPs; "unknown_key" for one that may not sign in at
    all), asked again under the person's lock.
    Raises Refused: the answer is not accepted, or the person may not sign in here.
    """
    answer = ceremony.parse(raw, registration=False)
    key = WebAuthnKey.objects.filter(credential_id=answer.credential_id).first()
    who, _ = admit(key.person) if key is not None else (None, None)
    if key is None or who is None:
        audit.record(AuditEvent.PASSKEY_LOGIN_FAILED, request=request, reason="unknown_key")
        raise Refused("unknown_key", PASSKEY_UNKNOWN)
    keyed = KeyAnswer(answer, ticket, rp)
    context = services.context_for(who, request, challenges.PASSKEY, KEYS)
    with transaction.atomic():
        locked = services.lock(who)
        _, outcome = admit(locked.person)
        if outcome is not None and outcome.reason == "unknown_key":  # not admitted at all
            outcome.message = PASSKEY_UNKNOWN
        if outcome is not None:
            audit.record(
                AuditEvent.WEB_LOGIN_REFUSED,
                actor=who,
                request=request,
                reason=outcome.reason,
                method="passkey",
            )
        else:
            outcome = services.check(
                locked,
                KEYS,
                keyed,
                purpose=challenges.PASSKEY,
                now=now,
                context=context,
            )
        if isinstance(outcome, Verdict):
            if not key.passkey:  # it just signed in without a password: a passkey
                WebAuthnKey.objects.filter(pk=key.pk).update(passkey=True)
            audit.record(
                AuditEvent.PASSKEY_SIGN_IN, actor=who, request=request, key=key.pk, name=key.name
            )
    if not isinstance(outcome, Verdict):
        raise outcome
    return who
