"""The second factor as the rest of the house sees it (ARCHITECTURE "The next rooms").

Code outside twofactor/ imports only this module. Every function takes whoever signs in
(people.kinds.SignsIn: an Account today, a mailbox owner later) and reaches its Person; none
names a kind of person, and no caller names a factor's model. Like django-otp's
`devices_for_user`, each kind of factor is one Factor object (services.FACTORS); a new kind adds
its module and its object there, and no caller changes.
"""

from collections.abc import Callable
from datetime import datetime

from django import forms
from django.db.models import Exists, OuterRef, QuerySet

from adminpanel.people.kinds import SignsIn, Unread
from adminpanel.twofactor import ceremony, challenges, key_services, recovery, services
from adminpanel.twofactor.factors import Verdict
from adminpanel.twofactor.forms import ChallengeForm, KeyAnswerForm, answer_field


def _flag(factor) -> str:
    return f"two_factor_{factor.method}"


def methods(who: SignsIn) -> list[str]:
    """The kinds of second factor it has, e.g. ["totp"]; [] when 2FA is off.

    Read from the annotations of `with_two_factor` when it came from there; else one plain
    EXISTS a kind (cheaper to build than the annotated query, on every request).
    """
    if hasattr(who, _flag(services.FACTORS[0])):
        return [f.method for f in services.FACTORS if getattr(who, _flag(f))]
    if who.person_id is None:  # not saved yet: no person, no factor
        return []
    return [f.method for f in services.factors_of(who)]


def capabilities(who: SignsIn | None) -> dict[str, bool]:
    """{"can_type_code": …, "can_sign": …}: how it answers, for a page's wording and inputs."""
    found = services.factors_of(who) if who is not None and who.person_id else []
    return {
        "can_type_code": any(f.can_type_code for f in found),
        "can_sign": any(f.can_sign for f in found),
    }


def is_enabled(who: SignsIn) -> bool:
    """2FA is on when it has at least one factor of any kind (read from the annotations of
    `with_two_factor` when it came from there)."""
    if hasattr(who, _flag(services.FACTORS[0])):
        return any(getattr(who, _flag(f)) for f in services.FACTORS)
    return who.person_id is not None and services.is_enabled(who)


def method_names(who: SignsIn) -> list[str]:
    """Its methods as people read them, e.g. ["Authenticator app", "Security key"]."""
    labels = {f.method: f.label for f in services.FACTORS}
    return [labels[method] for method in methods(who)]


def with_two_factor(people: QuerySet) -> QuerySet:
    """The rows (of any kind of person: each has a `person`) with their methods loaded in the
    same query, one EXISTS per kind, for is_enabled() and methods() (in a template: the
    `two_factor_on` filter)."""
    return people.annotate(
        **{
            _flag(f): Exists(f.model.objects.filter(person=OuterRef("person")))
            for f in services.FACTORS
        }
    )


def verify(
    who: SignsIn | Unread,
    answer: object,
    *,
    purpose: str,
    now: datetime,
    request=None,
    then: Callable[[SignsIn, Verdict], None] | None = None,
) -> Verdict:
    """Accept the person's answer (a code or a recovery code) for `purpose`, once; else Refused.

    Purposes: "login", "disable", "regenerate", "confirm". Failures of every kind count in one
    throttle. then(who, verdict) runs when it is accepted, in the same transaction and under
    the same lock (a login completed with it: one commit, and the code is spent only if it is).
    `who` may be an Unread (people.kinds): read with the lock, then(…) gets the row read.
    """
    return services.verify_code(
        who, answer, now=now, request=request, purpose=purpose, on_success=_after(then)
    )


def _after(then: Callable[[SignsIn, Verdict], None] | None):
    return None if then is None else lambda locked, verdict: then(locked.who, verdict)


def recovery_codes_left(who: SignsIn) -> int:
    return recovery.left(who.person_id)


def reset(who: SignsIn, **options) -> None:
    """Remove every factor and recovery code and forgive its failures. The options are
    services.reset's: who did it (actor, request, actor_name) and `nothing_to_reset`, raised
    instead when the person has no factor."""
    services.reset(who, **options)
    if hasattr(who, _flag(services.FACTORS[0])):  # keeps a row from with_two_factor() truthful
        for factor in services.FACTORS:
            setattr(who, _flag(factor), False)


def challenge_form(data=None, *, who: SignsIn | None = None) -> forms.Form:
    """The form of a code's answer (its field is `challenge`); given who answers, its messages
    fit its factors (no "6-digit code" for one that has only security keys)."""
    return ChallengeForm(data, who=who)


# --- security keys and passkeys -------------------------------------------------------------


def verify_key(
    who: SignsIn,
    answer: object,
    *,
    purpose: str,
    now: datetime,
    request,
    then: Callable[[SignsIn, Verdict], None] | None = None,
) -> Verdict:
    """Accept a key's signed answer (the browser's JSON) for `purpose`, once; else Refused.

    Failures count in the same throttle as codes; `then` as for verify()."""
    return key_services.verify_key(
        who,
        answer,
        purpose=purpose,
        session=request.session,
        rp=ceremony.relying_party(request),
        now=now,
        request=request,
        on_success=_after(then),
    )


def sign_in_with_passkey(answer: object, *, admit, now: datetime, request) -> SignsIn:
    """Whoever a passkey (with user verification) signs in: both factors at once.

    `admit(person) -> (who or None, Refused or None)`: whom this sign-in serves (see
    key_services.sign_in_with_passkey). Refused when the answer is not accepted or the person
    may not sign in here."""
    return key_services.sign_in_with_passkey(
        answer,
        ticket=request.COOKIES.get(challenges.PASSKEY_COOKIE, ""),
        rp=ceremony.relying_party(request),
        admit=admit,
        now=now,
        request=request,
    )


def key_answer_field(*, required: bool = True) -> forms.Field:
    """The field that carries a key's answer, for a form outside twofactor/ (Confirm access)."""
    return answer_field(required=required)


def key_answer_form(data=None) -> forms.Form:
    """The form that carries a key's answer (its field is `credential`)."""
    return KeyAnswerForm(data)
