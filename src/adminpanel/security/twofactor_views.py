"""Security → 2FA pages (SPEC §4) of an Admin or Sub-Admin. Thin: every rule is in
twofactor's services; the pages ask what a person can do (capabilities), not its factors' kinds.
"""

from collections.abc import Callable
from dataclasses import dataclass

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
from adminpanel.login.doors import ACCOUNTS, Door
from adminpanel.pages import render_refused
from adminpanel.people.kinds import SignsIn
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
    "left, ask {who_resets} for Reset 2FA."
)


@dataclass(frozen=True)
class TwoFactorSide:
    """Whose 2FA pages these are: the Admin's and Sub-Admins' (Security → 2FA) or a mailbox
    owner's (My mailbox → 2FA, owners.views). The flow is one, security keys included
    (key_views); the side gives the person, its door, the pages' frame and URL names, and its
    kind's rules."""

    who: Callable[[HttpRequest], SignsIn]  # the person of a page behind the side's guard
    signed_in: Callable[[HttpRequest], SignsIn | None]  # the same, or None, unguarded
    door: Door  # whose pending login the pop-up's Use security key answers
    prefix: str  # of its URL names: prefix + "2fa-app-replace" and so on
    status: str  # URL names
    enable: str
    setup: str
    disable: str
    confirm: str  # its Confirm access page
    options: str  # its WebAuthn options (key_views.webauthn_options)
    base: str  # the template the pages extend
    breadcrumb: str
    breadcrumb_top: str
    mail_apps: bool  # True: a mailbox owner's words (mail apps and app passwords, no API)
    who_resets: str  # who can Reset 2FA for this person, as the pages name them
    kept_on: str  # the sentence that says a rule keeps this person's 2FA on
    mark_two_factor: Callable[[HttpRequest], None]  # this session has just shown a code
    must_keep_2fa: Callable[[SignsIn], bool]
    check_may_disable: Callable[[SignsIn], None]  # Refused when a rule keeps 2FA on

    def url(self, name: str) -> str:
        """The side's URL name of one of the Admin's (e.g. "2fa-app-replace")."""
        return self.prefix + name


def _signed_in_account(request: HttpRequest) -> SignsIn | None:
    return request.user if request.user.is_authenticated else None


ADMIN_SIDE = TwoFactorSide(
    who=lambda request: request.user,
    signed_in=_signed_in_account,
    door=ACCOUNTS,
    prefix="",
    status="2fa",
    enable="2fa-enable",
    setup="2fa-setup",
    disable="2fa-disable",
    confirm="confirm-access",
    options="webauthn-options",
    base="base.html",
    breadcrumb="Security · 2FA",
    breadcrumb_top="Security",
    mail_apps=False,
    who_resets="the Admin",
    kept_on=policy.KEPT_ON,
    mark_two_factor=web_sessions.mark_two_factor,
    must_keep_2fa=policy.must_have_2fa,
    check_may_disable=policy.check_may_disable,
)


def _render(request, template: str, context: dict, side: TwoFactorSide, status: int = 200):
    who = side.who(request)
    return render(
        request, template, {**context, "side": side, "side_name": who.username}, status=status
    )


def _rejected(
    request, template: str, context: dict, form, refused: Refused, side: TwoFactorSide = ADMIN_SIDE
) -> HttpResponse:
    context = {**context, "form": form, "side": side, "side_name": side.who(request).username}
    return render_refused(request, template, context, refused, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def status_view(request: HttpRequest) -> HttpResponse:
    return two_factor_status(request, ADMIN_SIDE)


def two_factor_status(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """Security → 2FA: the status, Select Status and Save, the factors of the person."""
    account = side.who(request)
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
                return redirect(side.enable)
            if not wanted and enabled:
                return redirect(side.disable)
            messages.info(request, ENABLED if enabled else DISABLED)
            return redirect(side.status)
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
        "must_keep_2fa": side.must_keep_2fa(account),
        "disabled_removes": services.what_disabling_removes(account) if enabled else "",
        # The Key name typed before Confirm access interrupted Add security key.
        "key_name": request.GET.get("key_name", "")[: ceremony.KEY_NAME_MAX],
    }
    return _render(request, "twofactor/status.html", context, side, status)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def enable_view(request: HttpRequest) -> HttpResponse:
    return two_factor_enable(request, ADMIN_SIDE)


def two_factor_enable(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """Requirements, then Next: a new pending setup (replacing any earlier one).

    A person whose 2FA is on with security keys may add the app as well."""
    who = side.who(request)
    if services.can_type_code(who):
        messages.info(request, ENABLED)
        return redirect(side.status)
    if request.method == "POST":
        services.start_setup(who, now=clock.now(), request=request)
        return redirect(side.setup)
    return _render(request, "twofactor/requirements.html", {}, side)


def _setup_context(request: HttpRequest, setup, side: TwoFactorSide = ADMIN_SIDE) -> dict:
    now = clock.now()
    key = services.setup_key(setup)
    uri = otpauth_uri(key, side.who(request).username, settings.TOTP_ISSUER)
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
    return two_factor_setup(request, ADMIN_SIDE)


def two_factor_setup(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """The QR code, the key as text, the countdown and the Challenge."""
    if services.can_type_code(side.who(request)):
        messages.info(request, ENABLED)
        return redirect(side.status)
    return _setup_page(request, replacing=False, side=side)


def _setup_page(
    request: HttpRequest, *, replacing: bool, side: TwoFactorSide = ADMIN_SIDE
) -> HttpResponse:
    """The setup page of a new app: enabling 2FA, or (replacing) Replace's second step."""
    account = side.who(request)
    setup = services.pending_setup(account)
    if setup is None:
        if request.method == "POST":
            messages.error(request, "This setup was replaced or has ended. Start again.")
        return redirect(side.url("2fa-app-replace") if replacing else side.enable)
    context = {**_setup_context(request, setup, side), "replacing": replacing}
    if request.method == "GET":
        return _render(request, "twofactor/setup.html", {**context, "form": SetupForm()}, side)
    form = SetupForm(request.POST)
    if not form.is_valid():
        if form.has_error("setup"):  # a hidden field: say what it means where people look
            form.add_error("challenge", "This setup form is out of date. Use the newest QR code.")
        return _render(request, "twofactor/setup.html", {**context, "form": form}, side)
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
            context = {**_setup_context(request, setup, side), "replacing": replacing}
        return _rejected(request, "twofactor/setup.html", context, form, refused, side)
    side.mark_two_factor(request)  # it has just shown a code
    if replacing:
        messages.success(request, REPLACED)
        return redirect(side.status)
    if not codes:  # 2FA was on already, with a security key: its recovery codes stay
        messages.success(request, "Authenticator app added.")
        return redirect(side.status)
    context = {"codes": codes, "just_enabled": True, **interface.capabilities(account)}
    return _render(request, "twofactor/recovery_codes.html", context, side)


# --- the app's own row: Replace and Remove -----------------------------------------------------


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def replace_app_view(request: HttpRequest) -> HttpResponse:
    return replace_app(request, ADMIN_SIDE)


def replace_app(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """Replace, first step: what happens; Next starts the setup of the new app."""
    who = side.who(request)
    if not services.can_type_code(who):
        return redirect(side.status)
    if request.method == "POST":
        services.start_setup(who, now=clock.now(), request=request, replace=True)
        return redirect(side.url("2fa-app-replace-setup"))
    return _render(request, "twofactor/replace_app.html", interface.capabilities(who), side)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def replace_app_setup_view(request: HttpRequest) -> HttpResponse:
    return replace_app_setup(request, ADMIN_SIDE)


def replace_app_setup(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """Replace, second step: the new app's QR code; its first code swaps the key."""
    if not services.can_type_code(side.who(request)):
        return redirect(side.status)
    return _setup_page(request, replacing=True, side=side)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def remove_app_view(request: HttpRequest) -> HttpResponse:
    return remove_app(request, ADMIN_SIDE)


def remove_app(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """Remove the app where a security key remains; the only factor goes by Disabled."""
    account = side.who(request)
    can = interface.capabilities(account)
    if not can["can_type_code"]:
        return redirect(side.status)
    if not can["can_sign"]:
        messages.info(request, services.ONLY_FACTOR)
        return redirect(side.status)
    if request.method == "GET":
        return _render(request, "twofactor/remove_app.html", {}, side)
    try:
        services.remove_app(account, request=request)
    except Refused as refused:
        messages.error(request, refused.message)
        return redirect(side.status)
    messages.success(request, APP_REMOVED)
    messages.info(request, "You can now delete the entry from your 2FA app.")
    return redirect(side.status)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def disable_view(request: HttpRequest) -> HttpResponse:
    return two_factor_disable(request, ADMIN_SIDE)


def two_factor_disable(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """A code or a recovery code here; Use security key posts to key_views instead."""
    who = side.who(request)
    if not interface.is_enabled(who):
        messages.info(request, DISABLED)
        return redirect(side.status)
    try:
        side.check_may_disable(who)
    except Refused as refused:
        messages.error(request, refused.message)
        messages.info(request, RESET_BY_ADMIN.format(who_resets=side.who_resets))
        return redirect(side.status)
    context = {
        **interface.capabilities(who),
        "disabled_removes": services.what_disabling_removes(who),
    }
    form = ChallengeForm(request.POST if request.method == "POST" else None, who=who)
    if request.method == "POST" and form.is_valid():
        try:
            services.disable(who, form.cleaned_data["challenge"], now=clock.now(), request=request)
        except Refused as refused:
            return _rejected(request, "twofactor/disable.html", context, form, refused, side)
        messages.success(request, DISABLED)
        messages.info(request, "You can now delete the entry from your 2FA app.")
        return redirect(side.status)
    return _render(request, "twofactor/disable.html", {**context, "form": form}, side)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    return recovery_codes(request, ADMIN_SIDE)


def recovery_codes(request: HttpRequest, side: TwoFactorSide) -> HttpResponse:
    """A new set of recovery codes, confirmed with a current code (or, on key_views, a key)."""
    who = side.who(request)
    if not interface.is_enabled(who):
        return redirect(side.status)
    form = ChallengeForm(request.POST if request.method == "POST" else None)
    can = interface.capabilities(who)
    context = {"recovery_codes_left": recovery.left(who.person_id), **can}
    # Without a code to type the page has no Challenge: the service says to use the key.
    if request.method == "POST" and (form.is_valid() or not can["can_type_code"]):
        try:
            codes = services.regenerate_recovery_codes(
                who, form.cleaned_data.get("challenge"), now=clock.now(), request=request
            )
        except Refused as refused:
            shown = form if can["can_type_code"] else None
            context = {**context, "form": form, "side": side}
            return render_refused(request, REGENERATE_PAGE, context, refused, form=shown)
        return _render(request, "twofactor/recovery_codes.html", {"codes": codes, **can}, side)
    return _render(request, REGENERATE_PAGE, {**context, "form": form}, side)
