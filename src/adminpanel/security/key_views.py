"""Security → 2FA → Security keys, and the WebAuthn options every ceremony starts with (SPEC §11),
for either side of twofactor_views.TwoFactorSide: an Admin's or a mailbox owner's (SPEC §14).

Thin: the rules are in twofactor.key_services.
"""

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from adminpanel import clock
from adminpanel.errors import Invalid, Refused
from adminpanel.login import services as login
from adminpanel.login.confirm import confirm_access_required, is_recent
from adminpanel.security.twofactor_views import ADMIN_SIDE, TwoFactorSide
from adminpanel.twofactor import ceremony, challenges, interface, key_services
from adminpanel.twofactor.forms import KeyAnswerForm, KeyForm

DISABLED = "Two-factor authentication is disabled."
DELETE_ENTRY = "You can now delete the entry from your 2FA app."
CONFIRM_FIRST = "Confirm access first: adding a security key needs a recent sign-in."


def _confirm_url(side: TwoFactorSide, next_url: str) -> str:
    return f"{reverse(side.confirm)}?{urlencode({'next': next_url})}"


def _keys_page(request: HttpRequest, side: TwoFactorSide) -> str:
    """The side's 2FA page with the Key name as typed, so that Confirm access costs no
    retyping."""
    name = request.POST.get("name", "")[: ceremony.KEY_NAME_MAX]
    status = reverse(side.status)
    return f"{status}?{urlencode({'key_name': name})}" if name else status


def _refused(reason: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": reason, "message": message}, status=status)


def _options_for(
    request: HttpRequest, purpose: str, rp: ceremony.RelyingParty, side: TwoFactorSide
) -> str:
    now = clock.now()
    if purpose == challenges.LOGIN:  # the pop-up of this side's login page
        pending = login.pending_login(
            request.session, now=now, pending_seconds=settings.PENDING_LOGIN_SECONDS, door=side.door
        )
        if pending is None:
            raise Refused("no_pending_login", "Enter your username and password first.")
        return key_services.authentication_options(
            pending[0], purpose=purpose, session=request.session, rp=rp, now=now
        )
    who = side.signed_in(request)
    if who is None:
        raise Refused("not_authenticated", "Log in first.")
    if purpose == challenges.REGISTER:
        if not is_recent(request, now):  # SPEC §12: adding a key needs a recent sign-in
            raise Refused("confirm_access", CONFIRM_FIRST)
        ceremony.clean_key_name(request.POST.get("name"))
        return key_services.registration_options(who, session=request.session, rp=rp, now=now)
    return key_services.authentication_options(
        who, purpose=purpose, session=request.session, rp=rp, now=now
    )


@require_POST
def options_view(request: HttpRequest) -> HttpResponse:
    return webauthn_options(request, ADMIN_SIDE)


def webauthn_options(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """The options for navigator.credentials.create()/get(), as JSON; a fresh challenge, for
    the person of this side (its signed-in session, or its pending login)."""
    purpose = request.POST.get("purpose")
    if purpose not in challenges.PURPOSES:
        return _refused("malformed", "Unknown request.")
    if purpose == challenges.PASSKEY:
        return _passkey_options(request)
    try:
        rp = ceremony.relying_party(request)
        options = _options_for(request, purpose, rp, side)
    except Invalid as invalid:
        return _refused("invalid_name", invalid.message)
    except Refused as refused:
        body = {"error": refused.reason, "message": refused.message}
        if refused.reason == "confirm_access":  # the script takes the person there
            body["confirm_url"] = _confirm_url(side, _keys_page(request, side))
        return JsonResponse(body, status=403)
    return HttpResponse(f'{{"options": {options}}}', content_type="application/json")


def _passkey_options(request: HttpRequest) -> HttpResponse:
    """Sign in with a passkey: the challenge goes in a cookie, not in a session (none is made).
    The same for every side: the key tells whose it is, and the sign-in's door admits it."""
    try:
        options, ticket = key_services.passkey_options(
            rp=ceremony.relying_party(request), now=clock.now()
        )
    except Refused as refused:
        return JsonResponse({"error": refused.reason, "message": refused.message}, status=403)
    response = HttpResponse(f'{{"options": {options}}}', content_type="application/json")
    response.set_cookie(
        challenges.PASSKEY_COOKIE,
        ticket,
        max_age=settings.WEBAUTHN_CHALLENGE_SECONDS,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


T = TypeVar("T")


def _with_key(
    request: HttpRequest,
    side: TwoFactorSide,
    back: str,
    service: Callable[..., T],
    form_class: type[KeyAnswerForm] = KeyAnswerForm,
) -> T | HttpResponse:
    """The outcome of service(person, answer, **other fields, …) for the form in the POST, or
    the way back to page `back` (a URL name of the side): to Confirm access first when the last
    sign-in is not recent, else to `back` itself with what is wrong."""
    if not is_recent(request, clock.now()):  # SPEC §12
        again = _keys_page(request, side) if back == side.status else reverse(back)
        return redirect(_confirm_url(side, again))
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect(back)
    fields = dict(form.cleaned_data)
    try:
        return service(
            side.who(request),
            fields.pop("credential"),
            **fields,
            session=request.session,
            rp=ceremony.relying_party(request),
            now=clock.now(),
            request=request,
        )
    except (Invalid, Refused) as refused:
        messages.error(request, refused.message)
        return redirect(back)


def _render(request: HttpRequest, template: str, context: dict, side: TwoFactorSide):
    who = side.who(request)
    return render(request, template, {**context, "side": side, "side_name": who.username})


@login_required
@require_POST
def add_view(request: HttpRequest) -> HttpResponse:
    return add_key(request, ADMIN_SIDE)


def add_key(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """Add security key: the Key name and the browser's signed answer."""
    codes = _with_key(request, side, side.status, key_services.add_key, KeyForm)
    if isinstance(codes, HttpResponse):
        return codes
    name = ceremony.clean_key_name(request.POST["name"])  # as the service stored it
    side.mark_two_factor(request)  # it has just shown a key
    if codes:
        context = {
            "codes": codes,
            "just_enabled": True,
            "key_name": name,
            **interface.capabilities(side.who(request)),
        }
        return _render(request, "twofactor/recovery_codes.html", context, side)
    messages.success(request, f"Security key “{name}” added.")
    return redirect(side.status)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    return remove_key(request, pk, ADMIN_SIDE)


def remove_key(request: HttpRequest, pk: int, side: TwoFactorSide) -> HttpResponse:
    """Remove one key; the last second factor is removed by disabling 2FA instead."""
    who = side.who(request)
    key = key_services.get_key(who, pk)
    if key_services.removes_last_factor(who):
        messages.info(request, key_services.LAST_FACTOR)
        return redirect(side.disable)
    if request.method == "GET":
        return _render(request, "twofactor/remove_key.html", {"key": key}, side)
    try:
        key_services.remove_key(who, pk, request=request)
    except Refused as refused:
        messages.info(request, refused.message)
        return redirect(side.disable)
    messages.success(request, f"Security key “{key.name}” removed.")
    return redirect(side.status)


@login_required
@require_POST
def disable_with_key_view(request: HttpRequest) -> HttpResponse:
    return disable_with_key(request, ADMIN_SIDE)


def disable_with_key(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """Disable 2FA, confirmed with one of the person's keys."""
    try:
        side.check_may_disable(side.who(request))
    except Refused as refused:
        messages.error(request, refused.message)
        return redirect(side.status)
    back = _with_key(request, side, side.disable, key_services.disable_with_key)
    if isinstance(back, HttpResponse):
        return back
    messages.success(request, DISABLED)
    messages.info(request, DELETE_ENTRY)
    return redirect(side.status)


@login_required
@require_POST
def regenerate_with_key_view(request: HttpRequest) -> HttpResponse:
    return regenerate_with_key(request, ADMIN_SIDE)


def regenerate_with_key(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """Generate new recovery codes, confirmed with one of the person's keys."""
    back = side.url("2fa-recovery-codes")
    codes = _with_key(request, side, back, key_services.regenerate_with_key)
    if isinstance(codes, HttpResponse):
        return codes
    context = {"codes": codes, **interface.capabilities(side.who(request))}
    return _render(request, "twofactor/recovery_codes.html", context, side)
