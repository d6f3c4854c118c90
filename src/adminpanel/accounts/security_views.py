"""Security → Sessions, Confirm access and Policy (SPEC §12). Thin: the rules are in
accounts.web_sessions, accounts.confirm and accounts.policy."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adminpanel import clock
from adminpanel.accounts import confirm, policy, web_sessions
from adminpanel.accounts.browsers import describe
from adminpanel.accounts.confirm import confirm_access_required
from adminpanel.accounts.forms import ConfirmAccessForm, PolicyForm
from adminpanel.accounts.permissions import require_admin
from adminpanel.errors import Refused
from adminpanel.pages import render_refused, safe_next
from adminpanel.twofactor import interface as twofactor

SESSIONS_PAGE_SIZE = 10


@login_required
@require_GET
def sessions_view(request: HttpRequest) -> HttpResponse:
    found = web_sessions.sessions_of(
        request.user, current_key=request.session.session_key, now=clock.now()
    )
    # Pages of 10 (this session first, on page 1), so a phone's stacked list stays short.
    page = Paginator(found, SESSIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"session": s, "browser": describe(s.user_agent)} for s in page.object_list]
    return render(request, "accounts/sessions.html", {"rows": rows, "page": page})


@login_required
@require_POST
def end_session_view(request: HttpRequest, pk: int) -> HttpResponse:
    web_sessions.end_session(request.user, pk, request=request)
    messages.success(request, "The session was signed out.")
    return redirect("sessions")


@login_required
@require_POST
def end_other_sessions_view(request: HttpRequest) -> HttpResponse:
    ended = web_sessions.end_other_sessions(request.user, reason="signed_out", request=request)
    if ended:
        messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    else:
        messages.info(request, "There were no other sessions.")
    return redirect("sessions")


TEMPLATE = "accounts/confirm.html"
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


@login_required
@confirm_access_required(keep=("require_2fa_for_subadmins",))
@require_http_methods(["GET", "POST"])
def policy_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    current = policy.current()
    form = PolicyForm(
        request.POST if request.method == "POST" else None,
        initial={"require_2fa_for_subadmins": current.require_2fa_for_subadmins},
    )
    if request.method == "POST" and form.is_valid():
        policy.set_require_2fa_for_subadmins(
            request.user, form.cleaned_data["require_2fa_for_subadmins"], request=request
        )
        messages.success(request, "The policy was saved.")
        return redirect("policy")
    return render(request, "accounts/policy.html", {"form": form})
