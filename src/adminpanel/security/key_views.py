"""Security → 2FA → Security keys, and the WebAuthn options every ceremony starts with (SPEC §11).

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
from adminpanel.accounts import policy, web_sessions
from adminpanel.errors import Invalid, Refused
from adminpanel.login import services as login
from adminpanel.login.confirm import confirm_access_required, is_recent
from adminpanel.twofactor import ceremony, challenges, interface, key_services
from adminpanel.twofactor.forms import KeyAnswerForm, KeyForm

DISABLED = "Two-factor authentication is disabled."
DELETE_ENTRY = "You can now delete the entry from your 2FA app."
CONFIRM_FIRST = "Confirm access first: adding a security key needs a recent sign-in."


def _confirm_url(next_url: str) -> str:
    return f"{reverse('confirm-access')}?{urlencode({'next': next_url})}"


def _keys_page(request: HttpRequest) -> str:
    """Security → 2FA with the Key name as typed, so that Confirm access costs no retyping."""
    name = request.POST.get("name", "")[: ceremony.KEY_NAME_MAX]
    return f"{reverse('2fa')}?{urlencode({'key_name': name})}" if name else reverse("2fa")


def _refused(reason: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": reason, "message": message}, status=status)


def _options_for(request: HttpRequest, purpose: str, rp: ceremony.RelyingParty) -> str:
    now = clock.now()
    if purpose == challenges.LOGIN:
        pending = login.pending_login(
            request.session, now=now, pending_seconds=settings.PENDING_LOGIN_SECONDS
        )
        if pending is None:
            raise Refused("no_pending_login", "Enter your username and password first.")
        return key_services.authentication_options(
            pending[0], purpose=purpose, session=request.session, rp=rp, now=now
        )
    if not request.user.is_authenticated:
        raise Refused("not_authenticated", "Log in first.")
    if purpose == challenges.REGISTER:
        if not is_recent(request, now):  # SPEC §12: adding a key needs a recent sign-in
            raise Refused("confirm_access", CONFIRM_FIRST)
        ceremony.clean_key_name(request.POST.get("name"))
        return key_services.registration_options(
            request.user, session=request.session, rp=rp, now=now
        )
    return key_services.authentication_options(
        request.user, purpose=purpose, session=request.session, rp=rp, now=now
    )


@require_POST
def options_view(request: HttpRequest) -> HttpResponse:
    """The options for navigator.credentials.create()/get(), as JSON; a fresh challenge."""
    purpose = request.POST.get("purpose")
    if purpose not in challenges.PURPOSES:
        return _refused("malformed", "Unknown request.")
    if purpose == challenges.PASSKEY:
        return _passkey_options(request)
    try:
        rp = ceremony.relying_party(request)
        options = _options_for(request, purpose, rp)
    except Invalid as invalid:
        return _refused("invalid_name", invalid.message)
    except Refused as refused:
        body = {"error": refused.reason, "message": refused.message}
        if refused.reason == "confirm_access":  # the script takes the person there
            body["confirm_url"] = _confirm_url(_keys_page(request))
        return JsonResponse(body, status=403)
    return HttpResponse(f'{{"options": {options}}}', content_type="application/json")


def _passkey_options(request: HttpRequest) -> HttpResponse:
    """Sign in with a passkey: the challenge goes in a cookie, not in a session (none is made)."""
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
    back: str,
    service: Callable[..., T],
    form_class: type[KeyAnswerForm] = KeyAnswerForm,
) -> T | HttpResponse:
    """The outcome of service(account, answer, **other fields, …) for the form in the POST, or
    the way back to page `back`: to Confirm access first when the last sign-in is not recent,
    else to `back` itself with what is wrong."""
    if not is_recent(request, clock.now()):  # SPEC §12
        return redirect(_confirm_url(_keys_page(request) if back == "2fa" else reverse(back)))
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect(back)
    fields = dict(form.cleaned_data)
    try:
        return service(
            request.user,
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


@login_required
@require_POST
def add_view(request: HttpRequest) -> HttpResponse:
    """Add security key: the Key name and the browser's signed answer."""
    codes = _with_key(request, "2fa", key_services.add_key, KeyForm)
    if isinstance(codes, HttpResponse):
        return codes
    name = ceremony.clean_key_name(request.POST["name"])  # as the service stored it
    web_sessions.mark_two_factor(request)  # it has just shown a key
    if codes:
        return render(
            request,
            "twofactor/recovery_codes.html",
            {
                "codes": codes,
                "just_enabled": True,
                "key_name": name,
                **interface.capabilities(request.user),
            },
        )
    messages.success(request, f"Security key “{name}” added.")
    return redirect("2fa")


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove one key; the last second factor is removed by disabling 2FA instead."""
    key = key_services.get_key(request.user, pk)
    if key_services.removes_last_factor(request.user):
        messages.info(request, key_services.LAST_FACTOR)
        return redirect("2fa-disable")
    if request.method == "GET":
        return render(request, "twofactor/remove_key.html", {"key": key})
    try:
        key_services.remove_key(request.user, pk, request=request)
    except Refused as refused:
        messages.info(request, refused.message)
        return redirect("2fa-disable")
    messages.success(request, f"Security key “{key.name}” removed.")
    return redirect("2fa")


@login_required
@require_POST
def disable_with_key_view(request: HttpRequest) -> HttpResponse:
    """Disable 2FA, confirmed with one of the account's keys."""
    try:
        policy.check_may_disable(request.user)
    except Refused as refused:
        messages.error(request, refused.message)
        return redirect("2fa")
    back = _with_key(request, "2fa-disable", key_services.disable_with_key)
    if isinstance(back, HttpResponse):
        return back
    messages.success(request, DISABLED)
    messages.info(request, DELETE_ENTRY)
    return redirect("2fa")


@login_required
@require_POST
def regenerate_with_key_view(request: HttpRequest) -> HttpResponse:
    """Generate new recovery codes, confirmed with one of the account's keys."""
    codes = _with_key(request, "2fa-recovery-codes", key_services.regenerate_with_key)
    if isinstance(codes, HttpResponse):
        return codes
    context = {"codes": codes, **interface.capabilities(request.user)}
    return render(request, "twofactor/recovery_codes.html", context)
