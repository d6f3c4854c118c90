"""My mailbox (SPEC §14): the owner's sign-in (the house's login views, given the owner's
page), its 2FA (the Admin's Security → 2FA views, given the owner's side) and its own pages.
Thin: the rules are in owners (sessions, access, services) and the services they call."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adminpanel import clock
from adminpanel.accounts.browsers import describe
from adminpanel.audit.words import event_label
from adminpanel.errors import Invalid, NotFound, Refused
from adminpanel.login import confirm
from adminpanel.login.forms import ConfirmAccessForm
from adminpanel.login.views import LoginPage
from adminpanel.mail import app_passwords, leaving_forms
from adminpanel.owners import selectors, services, sessions
from adminpanel.owners.access import KEPT_ON, owner_confirm_required, owner_required
from adminpanel.owners.door import OWNERS
from adminpanel.owners.owner import Owner
from adminpanel.pages import (
    keep_to_show_once,
    render_refused,
    safe_next,
    take_shown_once,
)
from adminpanel.security import key_views as shared_keys
from adminpanel.security import twofactor_views as shared_2fa
from adminpanel.security.forms import OwnPasswordForm
from adminpanel.security.twofactor_views import TwoFactorSide

OWNER_PAGE = LoginPage(
    door=OWNERS,
    name_label="Email address",
    brand="My mailbox",
    login="mailbox-login",
    verify="mailbox-login-verify",
    cancel="mailbox-login-cancel",
    key="mailbox-login-key",
    options="mailbox-webauthn-options",
    passkey="mailbox-login-passkey",
    next_within="/mailbox/",
)


def _may_not_disable(owner) -> None:
    if owner.mailbox.domain.require_owner_2fa:
        raise Refused("two_factor_required", f"{KEPT_ON}.")


def _signed_in_owner(request: HttpRequest) -> Owner | None:
    mailbox, _ = sessions.signed_in_mailbox(request)
    return Owner(mailbox) if mailbox is not None else None


OWNER_SIDE = TwoFactorSide(
    who=lambda request: request.owner,
    signed_in=_signed_in_owner,
    door=OWNERS,
    prefix="mailbox-",
    status="mailbox-2fa",
    enable="mailbox-2fa-enable",
    setup="mailbox-2fa-setup",
    disable="mailbox-2fa-disable",
    confirm="mailbox-confirm",
    options="mailbox-webauthn-options",
    base="owners/layout.html",
    breadcrumb="My mailbox · 2FA",
    breadcrumb_top="My mailbox",
    mail_apps=True,
    who_resets="your mail administrator",
    kept_on=KEPT_ON,
    mark_two_factor=sessions.mark_two_factor,
    must_keep_2fa=lambda owner: owner.mailbox.domain.require_owner_2fa,
    check_may_disable=_may_not_disable,
)

PAGE_SIZE = 20
CONFIRM_TEMPLATE = "login/confirm.html"


@owner_required
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    mailbox = request.owner.mailbox
    used = selectors.storage_used(mailbox)
    quota = mailbox.quota_mb * 1024 * 1024
    context = {
        "mailbox": mailbox,
        "used": used,
        "quota": quota,
        "percent": min(100, round(100 * used / quota)) if used is not None and quota else None,
        "sign_ins": selectors.last_sign_ins(mailbox),
        "two_factor": shared_2fa.interface.is_enabled(request.owner),
    }
    return render(request, "owners/home.html", context)


# --- 2FA, security keys and passkeys: the Admin's views, on the owner's side ------------------


def _on_owner_side(shared_view, *, confirm: bool, methods: tuple[str, ...] = ("GET", "POST")):
    """One of the Admin's 2FA or key views (security.twofactor_views, key_views), given the
    owner's side: for a signed-in owner (open before a required 2FA is set up), after Confirm
    access where the Admin's view asks for it, for the same HTTP methods."""

    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        return shared_view(request, side=OWNER_SIDE, **kwargs)

    view = require_http_methods(list(methods))(view)
    if confirm:
        view = owner_confirm_required(view)
    return owner_required(gated=False)(view)


# (route, URL name, view): the Admin's routes without security/, and its URL names, which
# owners.urls gives the side's prefix ("mailbox-2fa-enable", as OWNER_SIDE.url names them).
TWO_FACTOR_PAGES = [
    ("2fa", "2fa", _on_owner_side(shared_2fa.two_factor_status, confirm=False)),
    ("2fa/enable", "2fa-enable", _on_owner_side(shared_2fa.two_factor_enable, confirm=True)),
    ("2fa/setup", "2fa-setup", _on_owner_side(shared_2fa.two_factor_setup, confirm=True)),
    ("2fa/disable", "2fa-disable", _on_owner_side(shared_2fa.two_factor_disable, confirm=True)),
    ("2fa/app/replace", "2fa-app-replace", _on_owner_side(shared_2fa.replace_app, confirm=True)),
    (
        "2fa/app/replace/setup",
        "2fa-app-replace-setup",
        _on_owner_side(shared_2fa.replace_app_setup, confirm=True),
    ),
    ("2fa/app/remove", "2fa-app-remove", _on_owner_side(shared_2fa.remove_app, confirm=True)),
    (
        "2fa/recovery-codes",
        "2fa-recovery-codes",
        _on_owner_side(shared_2fa.recovery_codes, confirm=True),
    ),
    (
        "2fa/disable/key",
        "2fa-disable-key",
        _on_owner_side(shared_keys.disable_with_key, confirm=False, methods=("POST",)),
    ),
    (
        "2fa/recovery-codes/key",
        "2fa-recovery-codes-key",
        _on_owner_side(shared_keys.regenerate_with_key, confirm=False, methods=("POST",)),
    ),
    (
        "2fa/keys/add",
        "2fa-key-add",
        _on_owner_side(shared_keys.add_key, confirm=False, methods=("POST",)),
    ),
    (
        "2fa/keys/<int:pk>/remove",
        "2fa-key-remove",
        _on_owner_side(shared_keys.remove_key, confirm=True),
    ),
]


@require_POST
def webauthn_options_view(request: HttpRequest) -> HttpResponse:
    """Options for the owner's pop-up (its pending login), passkey sign-in and 2FA page."""
    return shared_keys.webauthn_options(request, OWNER_SIDE)


@owner_required(gated=False)
@require_http_methods(["GET", "POST"])
def confirm_view(request: HttpRequest) -> HttpResponse:
    """Confirm access (SPEC §12) for My mailbox: the password and, with 2FA on, a code; the
    Admin's page and service, given the owner's door."""
    owner = request.owner
    next_url = safe_next(
        request, request.POST.get("next") or request.GET.get("next"), default="/mailbox/"
    )
    form = ConfirmAccessForm(request.POST if request.method == "POST" else None)
    context = {
        "form": form,
        "next": next_url,
        "two_factor": confirm.needs_second_factor(owner),
        **shared_2fa.interface.capabilities(owner),
        "options_url": OWNER_SIDE.options,
        "side_base": "owners/layout.html",
        "breadcrumb": "My mailbox",
        "cancel_url": "mailbox-home",
    }
    if request.method == "POST" and form.is_valid():
        try:
            confirm.confirm_access(
                request,
                form.cleaned_data["password"],
                form.cleaned_data["challenge"],
                now=clock.now(),
                key_answer=form.cleaned_data["credential"],
                door=OWNERS,
                who=owner,
            )
        except Refused as refused:
            field = "password" if refused.reason in confirm.PASSWORD_REASONS else "challenge"
            if field == "challenge" and form.cleaned_data["credential"]:
                field = "credential"  # said beside Use security key
            return render_refused(
                request, CONFIRM_TEMPLATE, context, refused, form=form, field=field
            )
        return redirect(next_url)
    status = 400 if form.errors else 200
    return render(request, CONFIRM_TEMPLATE, context, status=status)


# --- app passwords --------------------------------------------------------------------------


SHOWN_ONCE_SLOT = "mailbox_app_password_created"  # pages.keep_to_show_once


@owner_required
@require_http_methods(["GET", "POST"])
def app_passwords_view(request: HttpRequest) -> HttpResponse:
    mailbox = request.owner.mailbox
    name, error, status = "", "", 200
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            created = app_passwords.create_app_password(
                mailbox, name=name, actor=None, request=request
            )
        except Invalid as invalid:
            error, status, name = invalid.message, 400, name[:100].replace("\x00", "")
        else:
            # Post/Redirect/Get: a reload shows the list, it does not make a second one.
            keep_to_show_once(request, SHOWN_ONCE_SLOT, created.secret, pk=created.app_password.pk)
            return redirect("mailbox-app-passwords")
    kept = take_shown_once(request, SHOWN_ONCE_SLOT) if request.method == "GET" else None
    rows = app_passwords.app_passwords_of(mailbox)
    shown = rows.filter(pk=kept["pk"]).first() if kept else None
    context = {
        "created": {"app_password": shown, "secret": kept["secret"]} if shown else None,
        "name": name,
        "error": error,
        "rows": rows,
    }
    response = render(request, "owners/app_passwords.html", context, status=status)
    if shown:
        response["Cache-Control"] = "no-store"  # the secret stays out of every cache
    return response


@owner_required
@require_POST
def revoke_app_password_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        revoked = app_passwords.revoke_app_password(
            request.owner.mailbox, pk, actor=None, request=request
        )
    except NotFound:
        messages.error(request, "This app password does not exist or was revoked already.")
    else:
        messages.success(request, f"App password “{revoked.name}” revoked.")
    return redirect("mailbox-app-passwords")


# --- password, sessions, activity, forwarding ------------------------------------------------


@owner_required
@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest) -> HttpResponse:
    form = OwnPasswordForm(None, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                request.owner,
                form.cleaned_data["old_password"],
                form.cleaned_data["new_password1"],
                request=request,
            )
        except Refused as refused:
            return render_refused(
                request,
                "owners/password.html",
                {"form": form},
                refused,
                form=form,
                field="old_password",
            )
        except Invalid as invalid:
            form.add_error("new_password1", invalid.message)
        else:
            messages.success(request, "Your password was changed. Other sessions were signed out.")
            return redirect("mailbox-password")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "owners/password.html", {"form": form}, status=status)


@owner_required
@require_GET
def sessions_view(request: HttpRequest) -> HttpResponse:
    found = sessions.sessions_of(request.owner.mailbox, current_key=request.session.session_key)
    rows = [{"session": s, "browser": describe(s.user_agent)} for s in found]
    return render(request, "owners/sessions.html", {"rows": rows})


@owner_required
@require_POST
def end_session_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        sessions.end_session(request.owner.mailbox, pk, request=request)
    except NotFound:
        messages.error(request, "This session has ended already.")
    return redirect("mailbox-sessions")


@owner_required
@require_POST
def end_other_sessions_view(request: HttpRequest) -> HttpResponse:
    ended = sessions.end_other_sessions(request.owner.mailbox, reason="signed_out", request=request)
    messages.success(request, f"{ended} other session{'s' if ended != 1 else ''} signed out.")
    return redirect("mailbox-sessions")


@owner_required
@require_GET
def activity_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.activity(request.owner.mailbox), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [{"event": e, "label": event_label(e.event)} for e in page.object_list]
    return render(request, "owners/activity.html", {"rows": rows, "page": page})


LEAVING = {"forwarding": leaving_forms.FORWARDING, "automatic-reply": leaving_forms.AUTOMATIC_REPLY}


@owner_required
@require_http_methods(["GET", "POST"])
def leaving_view(request: HttpRequest, which: str = "") -> HttpResponse:
    """Forwarding and Automatic reply (SPEC §16: the owner sets them too)."""
    mailbox = request.owner.mailbox
    posted = LEAVING.get(which)
    if request.method == "GET" or posted is None:
        return render(request, "owners/leaving.html", leaving_forms.forms_of(mailbox))
    form, done = leaving_forms.save(posted, request.POST, mailbox, actor=None, request=request)
    if done:
        messages.success(request, "Saved.")
        return redirect("mailbox-leaving")
    context = leaving_forms.forms_of(mailbox, **{posted.name: form})
    return render(request, "owners/leaving.html", context, status=400)
