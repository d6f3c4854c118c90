"""Web login, the 2FA pop-up, passkey sign-in, Confirm access and logout. Thin: each view
calls one service of login.services."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_http_methods, require_POST

from adminpanel import clock
from adminpanel.errors import Refused
from adminpanel.login import confirm, services
from adminpanel.login.doors import ACCOUNTS, Door
from adminpanel.login.forms import ConfirmAccessForm, LoginForm
from adminpanel.pages import render_refused, safe_next
from adminpanel.twofactor import interface as twofactor


@dataclass(frozen=True)
class LoginPage:
    """One login page of a kind of person (login.doors): its door, its words and the names of
    its URLs. The views below serve every kind; urls.py passes the page."""

    door: Door
    name_label: str  # the name field's label
    brand: str
    login: str  # URL names
    verify: str
    cancel: str
    key: str
    options: str  # its WebAuthn options (security.key_views)
    passkey: str | None  # None: no passkey sign-in on this page
    next_within: str | None  # a `next` URL must start with it (None: anywhere on this site)


ADMIN_PAGE = LoginPage(
    door=ACCOUNTS,
    name_label="Username",
    brand="Admin Panel",
    login="login",
    verify="login-verify",
    cancel="login-cancel",
    key="login-key",
    options="webauthn-options",
    passkey="login-passkey",
    next_within=None,
)


def _pending(request: HttpRequest, page: LoginPage = ADMIN_PAGE, *, unread: bool = False):
    """(who, next) of the live pending login, or None; an expired one adds a message.
    unread: `who` may be read only with the answer's check (services.pending_login)."""
    try:
        return services.live_pending_login(request, page.door, unread=unread)
    except Refused as refused:
        messages.error(request, refused.message)
        return None


LOGIN_TEMPLATE = "login/login.html"


def _popup(account) -> dict:
    """What the 2FA pop-up offers this account: Use security key, the Challenge, or both."""
    return twofactor.capabilities(account) if account is not None else {}


def _login_context(
    *, challenge=None, account=None, form=None, page: LoginPage = ADMIN_PAGE, **extra
) -> dict:
    """The login page's context: the password form, and the 2FA pop-up when `challenge` is set."""
    return {
        "form": LoginForm() if form is None else form,
        "challenge": challenge,
        "page": page,
        **extra,
        **_popup(account),
    }


def _login_page(request, form, *, challenge=None, account=None, status=200, page=ADMIN_PAGE):
    context = _login_context(form=form, challenge=challenge, account=account, page=page)
    return render(request, LOGIN_TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest, page: LoginPage = ADMIN_PAGE) -> HttpResponse:
    if page.door.signed_in(request):
        return redirect(safe_next(request, request.GET.get("next"), default=page.next_within))
    if request.method == "GET":
        pending = _pending(request, page)
        challenge = twofactor.challenge_form() if pending else None
        account = pending[0] if pending else None
        return _login_page(
            request, LoginForm(initial={}), challenge=challenge, account=account, page=page
        )
    form = LoginForm(request.POST)
    if not form.is_valid():
        missing = [
            name for name, errors in form.errors.as_data().items() if errors[0].code == "required"
        ]
        if not missing:  # e.g. far too long: one answer for every wrong sign-in
            messages.error(request, page.door.invalid)
            return _login_page(request, LoginForm(), status=400, page=page)
        # An empty field is not a wrong password: say which one is missing, by the field.
        kept = LoginForm({"username": request.POST.get("username", "").strip()[:150]})
        kept.is_valid()
        for name in list(kept.errors):
            if name in missing:
                said = page.name_label.lower() if name == "username" else name
                kept.errors[name] = kept.error_class([f"Enter your {said}."])
            else:
                del kept.errors[name]
        return _login_page(request, kept, status=400, page=page)
    next_url = safe_next(
        request, request.POST.get("next") or request.GET.get("next"), default=page.next_within
    )
    try:
        complete = services.password_step(
            request,
            form.cleaned_data["username"],
            form.cleaned_data["password"],
            next_url=next_url,
            door=page.door,
        )
    except Refused as refused:
        form = LoginForm(initial={"username": request.POST.get("username", "")[:150]})
        context = {"form": form, "challenge": None, "page": page}
        return render_refused(request, LOGIN_TEMPLATE, context, refused)
    return _to_next(next_url) if complete else redirect(page.login)


def _to_next(next_url: str) -> HttpResponse:
    """Where a completed sign-in goes. A path goes as it is: Django's redirect() first tries
    to reverse it as a URL name, which fails at a cost of about 0.1 ms, on every sign-in."""
    return HttpResponseRedirect(next_url) if next_url.startswith("/") else redirect(next_url)


def _back_to_password_step(request: HttpRequest, page: LoginPage = ADMIN_PAGE) -> HttpResponse:
    """No live password step to answer: back to the login page, saying why unless a message
    already does."""
    if not messages.get_messages(request):
        messages.error(request, f"Enter your {page.name_label.lower()} and password first.")
    return redirect(page.login)


def _wait(refused: Refused) -> dict:
    """The pop-up's wait after too many failures: its message and seconds, or nothing."""
    if not refused.retry_after:
        return {}
    return {"wait_seconds": refused.retry_after, "wait_message": refused.message}


@require_POST
def verify_view(request: HttpRequest, page: LoginPage = ADMIN_PAGE) -> HttpResponse:
    # The account is read with the check's lock (an Unread: one statement less per answer).
    pending = _pending(request, page, unread=True)
    if pending is None:
        return _back_to_password_step(request, page)
    account, next_url = pending
    form = twofactor.challenge_form(request.POST, who=account)
    if form.is_valid():
        try:
            services.complete_with_code(
                request, account, form.cleaned_data["challenge"], door=page.door
            )
        except Refused as refused:
            if refused.reason in services.PENDING_OVER:
                if refused.message:
                    messages.error(request, refused.message)
                return _back_to_password_step(request, page)
            # The wait: one message, counted down in the pop-up, its buttons off until it ends.
            context = _login_context(challenge=form, account=account, page=page, **_wait(refused))
            return render_refused(
                request,
                LOGIN_TEMPLATE,
                context,
                refused,
                form=form,
                shown=bool(refused.retry_after),
            )
        return _to_next(next_url)
    return _login_page(request, LoginForm(), challenge=form, account=account, page=page)


@require_POST
def verify_key_view(request: HttpRequest, page: LoginPage = ADMIN_PAGE) -> HttpResponse:
    """The pop-up's Use security key: the second step answered by a key."""
    pending = _pending(request, page)
    if pending is None:
        return _back_to_password_step(request, page)
    account, next_url = pending
    form = twofactor.key_answer_form(request.POST)
    try:
        if not form.is_valid():
            raise Refused("malformed", form.errors["credential"][0])
        services.complete_with_key(
            request, account, form.cleaned_data["credential"], door=page.door
        )
    except Refused as refused:
        waiting = _wait(refused)
        context = _login_context(
            challenge=twofactor.challenge_form(),
            account=account,
            page=page,
            key_error="" if waiting else refused.message,
            **waiting,
        )
        # said beside Use security key (the form's field is hidden), not above the pop-up
        return render_refused(
            request,
            LOGIN_TEMPLATE,
            context,
            refused,
            form=form,
            field="credential",
            shown=bool(waiting),
        )
    return _to_next(next_url)


@require_POST
def passkey_view(request: HttpRequest, page: LoginPage = ADMIN_PAGE) -> HttpResponse:
    """Sign in with a passkey: a discoverable key with user verification, no password."""
    form = twofactor.key_answer_form(request.POST)
    try:
        if not form.is_valid():
            raise Refused("malformed", form.errors["credential"][0])
        services.sign_in_with_passkey(request, form.cleaned_data["credential"], door=page.door)
    except Refused as refused:
        context = {"form": LoginForm(), "page": page}
        return render_refused(request, LOGIN_TEMPLATE, context, refused)
    next_url = request.POST.get("next") or request.GET.get("next")
    return redirect(safe_next(request, next_url, default=page.next_within))


@require_POST
def cancel_view(request: HttpRequest, page: LoginPage = ADMIN_PAGE) -> HttpResponse:
    services.cancel_pending_login(request.session, request=request, door=page.door)
    return redirect(page.login)


@require_POST
def logout_view(request: HttpRequest, page: LoginPage = ADMIN_PAGE) -> HttpResponse:
    services.log_out(request, door=page.door)
    messages.info(request, "You have been logged out.")
    return redirect(page.login)


TEMPLATE = "login/confirm.html"
# What the page that sent a person to Confirm access does, by its URL name (the page names it).
ACTIONS = {
    "password": "change your password",
    "profile": "change your profile (the notice e-mail, Allowed IPs)",
    "policy": "change the 2FA policy for Sub-Admins",
    "2fa": "add a security key",
    "2fa-enable": "set up an authenticator app",
    "2fa-setup": "set up an authenticator app",
    "2fa-disable": "turn off two-factor authentication",
    "2fa-recovery-codes": "generate new recovery codes",
    "2fa-key-remove": "remove a security key",
    "2fa-app-replace": "replace your authenticator app",
    "2fa-app-replace-setup": "replace your authenticator app",
    "2fa-app-remove": "remove your authenticator app",
    "subadmin-add": "add a Sub-Admin",
    "subadmin-edit": "change a Sub-Admin",
    "subadmin-delete": "delete a Sub-Admin",
    "subadmin-reset-2fa": "reset a Sub-Admin's 2FA",
    "user-reset-2fa": "reset the 2FA of a mailbox's owner",
}


def _guarded_action(next_url: str) -> tuple[str, str]:
    """(what the page at next_url does, its path), for the Confirm access page to name it."""
    path = urlsplit(next_url).path
    try:
        name = resolve(path).url_name
    except Resolver404:
        name = None
    return ACTIONS.get(name, ""), path


@login_required
@require_http_methods(["GET", "POST"])
def confirm_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = ConfirmAccessForm(request.POST if request.method == "POST" else None)
    action, path = _guarded_action(next_url)
    context = {
        "form": form,
        "next": next_url,
        "action": action,
        "resumes": confirm.waiting_post(request, path),
        "two_factor": confirm.needs_second_factor(request.user),
        **twofactor.capabilities(request.user),
    }
    if request.method == "POST" and form.is_valid():
        try:
            confirm.confirm_access(
                request,
                form.cleaned_data["password"],
                form.cleaned_data["challenge"],
                now=clock.now(),
                key_answer=form.cleaned_data["credential"],
            )
        except Refused as refused:
            field = "password" if refused.reason in confirm.PASSWORD_REASONS else "challenge"
            if field == "challenge" and form.cleaned_data["credential"]:
                field = "credential"  # said beside Use security key
            return render_refused(request, TEMPLATE, context, refused, form=form, field=field)
        return redirect(next_url)
    status = 400 if form.errors else 200
    return render(request, TEMPLATE, context, status=status)
