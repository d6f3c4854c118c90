"""Security → Sessions (SPEC §12). Thin: the rules are in accounts.web_sessions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from adminpanel import clock
from adminpanel.accounts import web_sessions
from adminpanel.accounts.browsers import describe


@login_required
@require_GET
def sessions_view(request: HttpRequest) -> HttpResponse:
    found = web_sessions.sessions_of(
        request.user, current_key=request.session.session_key, now=clock.now()
    )
    rows = [{"session": s, "browser": describe(s.user_agent)} for s in found]
    return render(request, "accounts/sessions.html", {"rows": rows})


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
