"""Security → 2FA pages (SPEC §4) of an Admin or Sub-Admin. Thin: every rule is in
twofactor's services; the pages ask what a person can do (capabilities), not its factors' kinds.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from adminpanel import clock
from adminpanel.accounts import policy, web_sessions
from adminpanel.errors import Refused
from adminpanel.login.confirm import confirm_access_required
from adminpanel.pages import render_refused
from adminpanel.twofactor import ceremony, interface, key_services, recovery, services
from adminpanel.twofactor.forms import ChallengeForm, SetupForm, StatusForm
from adminpanel.twofactor.provisioning import grouped, otpauth_uri, qr_svg

ENABLED = "Two-factor authentication is enabled."
DISABLED = "Two-factor authentication is disabled."
REGENERATE_PAGE = "twofactor/regenerate.html"
REPLACED = (
    "Authenticator app replaced: only the new app's codes work now. Your security keys and "
    "recovery codes stay."
)
APP_REMOVED = "Authenticator app removed. Your security keys and recovery codes stay."
RESET_BY_ADMIN = (
    "Lost your phone? Sign in with a recovery code and use Replace. With no second factor "
    "left, ask the Admin for Reset 2FA."
)


def _rejected(request, template: str, context: dict, form, refused: Refused) -> HttpResponse:
    return render_refused(request, template, {**context, "form": form}, refused, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def status_view(request: HttpRequest) -> HttpResponse:
    account = request.user
    enabled = interface.is_enabled(account)
    # Bound on every POST, even an empty one, so that it says what is missing.
    # A link may choose what is selected (Home's "Enable 2FA": ?status=enabled).
    wanted = request.GET.get("status")
    selected = wanted if wanted in ("enabled", "disabled") else None
    form = StatusForm(
        request.POST if request.method == "POST" else None,
        initial={"status": selected or ("enabled" if enabled else "disabled")},
    )
    if request.method == "POST":
        if form.is_valid():
            wanted = form.cleaned_data["status"] == "enabled"
            if wanted and not enabled:
                return redirect("2fa-enable")
            if not wanted and enabled:
                return redirect("2fa-disable")
            messages.info(request, ENABLED if enabled else DISABLED)
            return redirect("2fa")
        status = 400
    else:
        status = 200
    context = {
        "form": form,
        "enabled": enabled,
        **interface.capabilities(account),
        "app_added_at": services.app_added_at(account),
        "keys": key_services.keys_of(account.person_id),
        "recovery_codes_left": recovery.left(account.person_id) if enabled else 0,
        "must_keep_2fa": policy.must_have_2fa(account),
        "disabled_removes": services.what_disabling_removes(account) if enabled else "",
        # The Key name typed before Confirm access interrupted Add security key.
        "key_name": request.GET.get("key_name", "")[: ceremony.KEY_NAME_MAX],
    }
    return render(request, "twofactor/status.html", context, status=status)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def enable_view(request: HttpRequest) -> HttpResponse:
    """Requirements, then Next: a new pending setup (replacing any earlier one).

    An account whose 2FA is on with security keys may add the app as well."""
    if services.can_type_code(request.user):
        messages.info(request, ENABLED)
        return redirect("2fa")
    if request.method == "POST":
        services.start_setup(request.user, now=clock.now(), request=request)
        return redirect("2fa-setup")
    return render(request, "twofactor/requirements.html")


def _setup_context(request: HttpRequest, setup) -> dict:
    now = clock.now()
    key = services.setup_key(setup)
    uri = otpauth_uri(key, request.user.username, settings.TOTP_ISSUER)
    return {
        "setup": setup,
        "qr_svg": qr_svg(uri),
        "otpauth_uri": uri,
        "key_grouped": grouped(key),
        "expired": setup.expires_at <= now,
        "seconds_left": max(0, int((setup.expires_at - now).total_seconds())),
        "issuer": settings.TOTP_ISSUER,
    }


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def setup_view(request: HttpRequest) -> HttpResponse:
    """The QR code, the key as text, the countdown and the Challenge."""
    if services.can_type_code(request.user):
        messages.info(request, ENABLED)
        return redirect("2fa")
    return _setup_page(request, replacing=False)


def _setup_page(request: HttpRequest, *, replacing: bool) -> HttpResponse:
    """The setup page of a new app: enabling 2FA, or (replacing) Replace's second step."""
    account = request.user
    setup = services.pending_setup(account)
    if setup is None:
        if request.method == "POST":
            messages.error(request, "This setup was replaced or has ended. Start again.")
        return redirect("2fa-app-replace" if replacing else "2fa-enable")
    context = {**_setup_context(request, setup), "replacing": replacing}
    if request.method == "GET":
        return render(request, "twofactor/setup.html", {**context, "form": SetupForm()})
    form = SetupForm(request.POST)
    if not form.is_valid():
        if form.has_error("setup"):  # a hidden field: say what it means where people look
            form.add_error("challenge", "This setup form is out of date. Use the newest QR code.")
        return render(request, "twofactor/setup.html", {**context, "form": form})
    confirm = services.replace_app if replacing else services.confirm_setup
    try:
        codes = confirm(
            account,
            form.cleaned_data["setup"],
            form.cleaned_data["challenge"],
            now=clock.now(),
            request=request,
        )
    except Refused as refused:
        if refused.reason == "replaced":
            setup = services.pending_setup(account) or setup
            context = {**_setup_context(request, setup), "replacing": replacing}
        return _rejected(request, "twofactor/setup.html", context, form, refused)
    web_sessions.mark_two_factor(request)  # it has just shown a code
    if replacing:
        messages.success(request, REPLACED)
        return redirect("2fa")
    if not codes:  # 2FA was on already, with a security key: its recovery codes stay
        messages.success(request, "Authenticator app added.")
        return redirect("2fa")
    context = {"codes": codes, "just_enabled": True, **interface.capabilities(account)}
    return render(request, "twofactor/recovery_codes.html", context)


# --- the app's own row: Replace and Remove -----------------------------------------------------


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def replace_app_view(request: HttpRequest) -> HttpResponse:
    """Replace, first step: what happens; Next starts the setup of the new app."""
    if not services.can_type_code(request.user):
        return redirect("2fa")
    if request.method == "POST":
        services.start_setup(request.user, now=clock.now(), request=request, replace=True)
        return redirect("2fa-app-replace-setup")
    return render(request, "twofactor/replace_app.html", interface.capabilities(request.user))


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def replace_app_setup_view(request: HttpRequest) -> HttpResponse:
    """Replace, second step: the new app's QR code; its first code swaps the key."""
    if not services.can_type_code(request.user):
        return redirect("2fa")
    return _setup_page(request, replacing=True)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def remove_app_view(request: HttpRequest) -> HttpResponse:
    """Remove the app where a security key remains; the only factor goes by Disabled."""
    account = request.user
    can = interface.capabilities(account)
    if not can["can_type_code"]:
        return redirect("2fa")
    if not can["can_sign"]:
        messages.info(request, services.ONLY_FACTOR)
        return redirect("2fa")
    if request.method == "GET":
        return render(request, "twofactor/remove_app.html")
    try:
        services.remove_app(account, request=request)
    except Refused as refused:
        messages.error(request, refused.message)
        return redirect("2fa")
    messages.success(request, APP_REMOVED)
    messages.info(request, "You can now delete the entry from your 2FA app.")
    return redirect("2fa")


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def disable_view(request: HttpRequest) -> HttpResponse:
    """A code or a recovery code here; Use security key posts to key_views instead."""
    if not interface.is_enabled(request.user):
        messages.info(request, DISABLED)
        return redirect("2fa")
    try:
        policy.check_may_disable(request.user)
    except Refused as refused:
        messages.error(request, refused.message)
        messages.info(request, RESET_BY_ADMIN)
        return redirect("2fa")
    context = {
        **interface.capabilities(request.user),
        "disabled_removes": services.what_disabling_removes(request.user),
    }
    form = ChallengeForm(request.POST if request.method == "POST" else None, who=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.disable(
                request.user, form.cleaned_data["challenge"], now=clock.now(), request=request
            )
        except Refused as refused:
            return _rejected(request, "twofactor/disable.html", context, form, refused)
        messages.success(request, DISABLED)
        messages.info(request, "You can now delete the entry from your 2FA app.")
        return redirect("2fa")
    return render(request, "twofactor/disable.html", {**context, "form": form})


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    """A new set of recovery codes, confirmed with a current code (or, on key_views, a key)."""
    if not interface.is_enabled(request.user):
        return redirect("2fa")
    form = ChallengeForm(request.POST if request.method == "POST" else None)
    can = interface.capabilities(request.user)
    context = {"recovery_codes_left": recovery.left(request.user.person_id), **can}
    # Without a code to type the page has no Challenge: the service says to use the key.
    if request.method == "POST" and (form.is_valid() or not can["can_type_code"]):
        try:
            codes = services.regenerate_recovery_codes(
                request.user, form.cleaned_data.get("challenge"), now=clock.now(), request=request
            )
        except Refused as refused:
            shown = form if can["can_type_code"] else None
            context = {**context, "form": form}
            return render_refused(request, REGENERATE_PAGE, context, refused, form=shown)
        return render(request, "twofactor/recovery_codes.html", {"codes": codes, **can})
    return render(request, REGENERATE_PAGE, {**context, "form": form})
