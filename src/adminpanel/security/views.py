"""Home and the Security pages: Password, Sessions, Policy (SPEC §3, §12). Thin: the rules are
in accounts (web_sessions, policy, services) and login.confirm."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adminpanel import clock
from adminpanel.accounts import policy, services, web_sessions
from adminpanel.accounts.browsers import describe
from adminpanel.accounts.permissions import require_admin
from adminpanel.errors import Refused
from adminpanel.login.confirm import confirm_access_required
from adminpanel.security.forms import OwnPasswordForm, PolicyForm
from adminpanel.security.overview import after_the_fact, security_overview
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
    return render(request, "security/sessions.html", {"rows": rows, "page": page})


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
    return render(request, "security/policy.html", {"form": form})


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    account = request.user
    context = {
        "two_factor_enabled": twofactor.is_enabled(account),
        "recovery_codes_left": twofactor.recovery_codes_left(account),
        **security_overview(account),
        **after_the_fact(account, request.session),
    }
    return render(request, "security/home.html", context)


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
            response = render(request, "security/password.html", {"form": form}, status=400)
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
    return render(request, "security/password.html", {"form": form}, status=status)
