"""Web login, the 2FA pop-up, logout and the home page. Thin: rules live in services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from adminpanel import clock
from adminpanel.accounts import access, services, web_sessions
from adminpanel.accounts.confirm import confirm_access_required
from adminpanel.accounts.forms import LoginForm, OwnPasswordForm
from adminpanel.accounts.overview import after_the_fact, security_overview
from adminpanel.errors import Refused
from adminpanel.net import client_ip
from adminpanel.pages import render_refused, safe_next
from adminpanel.twofactor import interface as twofactor


def _finish_login(
    request: HttpRequest, account, next_url: str, *, with_2fa: bool, recovery_codes_left=None
):
    # One transaction: the old session row goes, the login is logged, the new session row is
    # written; one commit instead of three (each waits for the database's disk), and a login
    # is recorded whole or not at all.
    with transaction.atomic():
        login(request, account)  # a new session id
        web_sessions.start(
            request,
            account,
            two_factor=with_2fa,
            now=clock.now(),
            recovery_codes_left=recovery_codes_left,
        )
        services.record_login(account, request=request, with_2fa=with_2fa)
    return redirect(next_url)


def _pending(request: HttpRequest):
    """(account, next) of the live pending login, or None; an expired one adds a message."""
    try:
        return services.pending_login(
            request.session,
            now=clock.now(),
            pending_seconds=settings.PENDING_LOGIN_SECONDS,
            request=request,
        )
    except Refused as refused:
        messages.error(request, refused.message)
        return None


LOGIN_TEMPLATE = "accounts/login.html"


def _popup(account) -> dict:
    """What the 2FA pop-up offers this account: Use security key, the Challenge, or both."""
    return twofactor.capabilities(account) if account is not None else {}


def _login_context(*, challenge=None, account=None, form=None, **extra) -> dict:
    """The login page's context: the password form, and the 2FA pop-up when `challenge` is set."""
    return {
        "form": LoginForm() if form is None else form,
        "challenge": challenge,
        **extra,
        **_popup(account),
    }


def _login_page(request, form, *, challenge=None, account=None, status=200):
    context = _login_context(form=form, challenge=challenge, account=account)
    return render(request, LOGIN_TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(safe_next(request, request.GET.get("next")))
    if request.method == "GET":
        pending = _pending(request)
        challenge = twofactor.challenge_form() if pending else None
        account = pending[0] if pending else None
        return _login_page(request, LoginForm(initial={}), challenge=challenge, account=account)
    form = LoginForm(request.POST)
    if not form.is_valid():
        missing = [
            name for name, errors in form.errors.as_data().items() if errors[0].code == "required"
        ]
        if not missing:  # e.g. far too long: one answer for every wrong sign-in
            messages.error(request, services.INVALID_CREDENTIALS)
            return _login_page(request, LoginForm(), status=400)
        # An empty field is not a wrong password: say which one is missing, by the field.
        kept = LoginForm({"username": request.POST.get("username", "").strip()[:150]})
        kept.is_valid()
        for name in list(kept.errors):
            if name in missing:
                kept.errors[name] = kept.error_class([f"Enter your {name}."])
            else:
                del kept.errors[name]
        return _login_page(request, kept, status=400)
    now = clock.now()
    try:
        account = services.check_password_step(
            form.cleaned_data["username"],
            form.cleaned_data["password"],
            ip=client_ip(request),
            channel="web",
            now=now,
            request=request,
        )
    except Refused as refused:
        form = LoginForm(initial={"username": request.POST.get("username", "")[:150]})
        return render_refused(request, LOGIN_TEMPLATE, {"form": form, "challenge": None}, refused)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if not services.needs_second_step(account):
        return _finish_login(request, account, next_url, with_2fa=False)
    services.begin_pending_login(
        request.session, account, next_url=next_url, now=now, request=request
    )
    return redirect("login")


def _back_to_password_step(request: HttpRequest) -> HttpResponse:
    """No live password step to answer: back to /login, saying why unless a message already does."""
    if not messages.get_messages(request):
        messages.error(request, "Enter your username and password first.")
    return redirect("login")


def _wait(refused: Refused) -> dict:
    """The pop-up's wait after too many failures: its message and seconds, or nothing."""
    if not refused.retry_after:
        return {}
    return {"wait_seconds": refused.retry_after, "wait_message": refused.message}


@require_POST
def verify_view(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        return _back_to_password_step(request)
    account, next_url = pending
    form = twofactor.challenge_form(request.POST, who=account)
    if form.is_valid():
        try:
            verdict = twofactor.verify(
                account,
                form.cleaned_data["challenge"],
                purpose="login",
                now=clock.now(),
                request=request,
            )
        except Refused as refused:
            # The wait: one message, counted down in the pop-up, its buttons off until it ends.
            context = _login_context(challenge=form, account=account, **_wait(refused))
            return render_refused(
                request,
                LOGIN_TEMPLATE,
                context,
                refused,
                form=form,
                shown=bool(refused.retry_after),
            )
        services.cancel_pending_login(request.session)
        return _finish_login(
            request,
            account,
            next_url,
            with_2fa=True,
            recovery_codes_left=verdict.recovery_codes_left,
        )
    return _login_page(request, LoginForm(), challenge=form, account=account)


@require_POST
def verify_key_view(request: HttpRequest) -> HttpResponse:
    """The pop-up's Use security key: the second step answered by a key."""
    pending = _pending(request)
    if pending is None:
        return _back_to_password_step(request)
    account, next_url = pending
    form = twofactor.key_answer_form(request.POST)
    try:
        if not form.is_valid():
            raise Refused("malformed", form.errors["credential"][0])
        twofactor.verify_key(
            account,
            form.cleaned_data["credential"],
            purpose="login",
            now=clock.now(),
            request=request,
        )
    except Refused as refused:
        waiting = _wait(refused)
        context = _login_context(
            challenge=twofactor.challenge_form(),
            account=account,
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
    services.cancel_pending_login(request.session)
    return _finish_login(request, account, next_url, with_2fa=True)


@require_POST
def passkey_view(request: HttpRequest) -> HttpResponse:
    """Sign in with a passkey: a discoverable key with user verification, no password."""
    form = twofactor.key_answer_form(request.POST)
    try:
        if not form.is_valid():
            raise Refused("malformed", form.errors["credential"][0])
        account = twofactor.sign_in_with_passkey(
            form.cleaned_data["credential"],
            admit=access.passkey_admission(client_ip(request)),
            now=clock.now(),
            request=request,
        )
    except Refused as refused:
        return render_refused(request, LOGIN_TEMPLATE, {"form": LoginForm()}, refused)
    services.cancel_pending_login(request.session)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    return _finish_login(request, account, next_url, with_2fa=True)


@require_POST
def cancel_view(request: HttpRequest) -> HttpResponse:
    services.cancel_pending_login(request.session, request=request)
    return redirect("login")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.record_logout(request.user, request=request)
        web_sessions.forget(request)
    logout(request)  # flushes the session row: the session ends on every instance
    messages.info(request, "You have been logged out.")
    return redirect("login")


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    account = request.user
    context = {
        "two_factor_enabled": twofactor.is_enabled(account),
        "recovery_codes_left": twofactor.recovery_codes_left(account),
        **security_overview(account),
        **after_the_fact(account, request.session),
    }
    return render(request, "accounts/home.html", context)


@login_required
@confirm_access_required
@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest) -> HttpResponse:
    form = OwnPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_password(
                request.user,
                form.cleaned_data["old_password"],
                form.cleaned_data["new_password1"],
                request=request,
            )
        except Refused as refused:
            form.add_error("old_password", refused.message)
            response = render(request, "accounts/password.html", {"form": form}, status=400)
            if refused.throttled:  # too many attempts: 429 and the wait
                response.status_code = 429
                response["Retry-After"] = str(refused.retry_after)
            return response
        old_key = request.session.session_key
        update_session_auth_hash(request, request.user)  # this session stays, others end
        web_sessions.follow_new_key(request, old_key)
        messages.success(request, "Your password was changed. Other sessions were logged out.")
        return redirect("password")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "accounts/password.html", {"form": form}, status=status)
