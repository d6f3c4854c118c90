"""The second factor as the rest of the house sees it (ARCHITECTURE "The next rooms").

Code outside twofactor/ imports only this module: it asks "is 2FA on, with which methods"
and "verify this answer for this purpose", and never names a factor's model. Like
django-otp's `devices_for_user`, each kind of factor is one row of FACTORS; a new kind
(security keys) adds its row here and its own module in twofactor/, and no caller changes.
Recovery codes are not a method: they come with the first factor and go with the last.
"""

from datetime import datetime
from functools import reduce
from operator import or_

from django import forms
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, QuerySet

from adminpanel.accounts.models import Account
from adminpanel.twofactor import recovery, services, webauthn
from adminpanel.twofactor.forms import ChallengeForm, KeyAnswerForm, answer_field
from adminpanel.twofactor.models import TotpDevice, WebAuthnKey
from adminpanel.twofactor.services import Verdict

# (method, the model whose rows are an account's factors of that kind), in display order:
# "totp" an authenticator app, "key" security keys and passkeys (WebAuthn).
FACTORS = (("totp", TotpDevice), ("key", WebAuthnKey))
METHOD_NAMES = {"totp": "Authenticator app", "key": "Security key"}


def _flag(method: str) -> str:
    return f"two_factor_{method}"


def _has(account: Account, model) -> bool:
    return model.objects.filter(account_id=account.pk).exists()


def methods(account: Account) -> list[str]:
    """The kinds of second factor the account has, e.g. ["totp"]; [] when 2FA is off.

    Read from the annotations of `with_two_factor` when the account came from there; else one
    plain EXISTS a kind (cheaper to build than the annotated query, on every request).
    """
    if hasattr(account, _flag(FACTORS[0][0])):
        return [method for method, _ in FACTORS if getattr(account, _flag(method))]
    if not account.pk:
        return []
    return [method for method, model in FACTORS if _has(account, model)]


def factor_flags(account: Account | None) -> dict[str, bool]:
    """{"has_app": …, "has_keys": …}: what the account answers with, for a page's wording."""
    found = methods(account) if account is not None else []
    return {"has_app": "totp" in found, "has_keys": "key" in found}


def is_enabled(account: Account) -> bool:
    """2FA is on when the account has at least one factor of any kind (the app asked first)."""
    if hasattr(account, "two_factor"):
        return bool(account.two_factor)
    return bool(account.pk) and any(_has(account, model) for _, model in FACTORS)


def method_names(account: Account) -> list[str]:
    """The account's methods as people read them, e.g. ["Authenticator app", "Security key"]."""
    return [METHOD_NAMES[method] for method in methods(account)]


def with_two_factor(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """The accounts, each with `two_factor` (bool) and its methods loaded in the same query."""
    flags = {_flag(m): Exists(model.objects.filter(account=OuterRef("pk"))) for m, model in FACTORS}
    enabled = reduce(or_, flags.values())
    return accounts.annotate(
        **flags, two_factor=ExpressionWrapper(enabled, output_field=BooleanField())
    )


def verify(
    account: Account, answer: object, *, purpose: str, now: datetime, request=None
) -> Verdict:
    """Accept the person's answer (a code or a recovery code) for `purpose`, once; else Refused.

    Purposes: "login", "disable", "regenerate", "confirm". Failures of every kind count in one
    throttle.
    """
    return services.verify_code(account, answer, now=now, request=request, purpose=purpose)


def recovery_codes_left(account: Account) -> int:
    return recovery.left(account)


def reset(
    account: Account, *, actor: Account | None = None, request=None, actor_name: str = ""
) -> None:
    """Remove every factor and recovery code of the account and forgive its failures."""
    services.reset(account, actor=actor, request=request, actor_name=actor_name)
    if hasattr(account, "two_factor"):  # keeps an account from with_two_factor() truthful
        account.two_factor = False
        for method, _ in FACTORS:
            setattr(account, _flag(method), False)


def challenge_form(data=None, *, account: Account | None = None) -> forms.Form:
    """The form of a code's answer (its field is `challenge`); given the account, its messages
    fit the account's factors (no "6-digit code" for one that has only security keys)."""
    return ChallengeForm(data, account=account)


# --- security keys and passkeys (twofactor.webauthn) ---------------------------------------


def verify_key(
    account: Account, answer: object, *, purpose: str, now: datetime, request
) -> Verdict:
    """Accept a key's signed answer (the browser's JSON) for `purpose`, once; else Refused.

    Failures count in the same throttle as codes."""
    return webauthn.verify_key(
        account,
        answer,
        purpose=purpose,
        session=request.session,
        rp=webauthn.relying_party(request),
        now=now,
        request=request,
    )


def sign_in_with_passkey(answer: object, *, ip: str, now: datetime, request) -> Account:
    """The account a passkey (with user verification) signs in as: both factors at once.

    Refused when the answer is not accepted or the account may not log in from here."""
    return webauthn.sign_in_with_passkey(
        answer,
        ticket=request.COOKIES.get(webauthn.PASSKEY_COOKIE, ""),
        rp=webauthn.relying_party(request),
        ip=ip,
        now=now,
        request=request,
    )


def key_answer_field(*, required: bool = True) -> forms.Field:
    """The field that carries a key's answer, for a form outside twofactor/ (Confirm access)."""
    return answer_field(required=required)


def key_answer_form(data=None) -> forms.Form:
    """The form that carries a key's answer (its field is `credential`)."""
    return KeyAnswerForm(data)
