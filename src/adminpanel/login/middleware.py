"""Rules every request of a logged-in web session obeys (SPEC §2, §3.6).

A session ends after 1 hour without activity and 24 hours after login, and at once when
the account loses Admin Panel access or the request comes from outside its allowed IPs.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect

from adminpanel import audit, clock
from adminpanel.accounts import access, policy, web_sessions
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.login import gate
from adminpanel.net import client_ip

# Refreshing the idle clock on every request would write the session row every time;
# once a minute keeps the idle limit exact to the minute at a fraction of the writes.
SEEN_GRANULARITY = 60

WHY_ENDED = {
    "session_expired": "Your session ended 24 hours after you logged in. Please log in again.",
    "session_idle": "Your session ended after an hour without activity. Please log in again.",
    "web_access_removed": "Your session was ended: this account no longer has access to the "
    "Admin Panel.",
    "ip_not_allowed": "Your session was ended: this account may not be used from your IP address.",
}


def _end_reason(request, now: float) -> str | None:
    account = request.user
    session = request.session
    if now - session.get(web_sessions.LOGIN_AT, 0) > settings.SESSION_ABSOLUTE_SECONDS:
        return "session_expired"
    if now - session.get(web_sessions.SEEN_AT, 0) > settings.SESSION_IDLE_SECONDS:
        return "session_idle"
    refusal = access.refusal(account, channel="web", ip=client_ip(request))
    if refusal is None:
        return None
    return "ip_not_allowed" if refusal.reason == "ip_not_allowed" else "web_access_removed"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = clock.now().timestamp()
            reason = _end_reason(request, now)
            if reason is not None:
                if reason in ("web_access_removed", "ip_not_allowed"):
                    audit.record(
                        AuditEvent.WEB_SESSION_ENDED,
                        actor=request.user,
                        request=request,
                        reason=reason,
                    )
                web_sessions.forget(request)
                logout(request)
                messages.info(request, WHY_ENDED[reason])
            elif now - request.session.get(web_sessions.SEEN_AT, 0) > SEEN_GRANULARITY:
                request.session[web_sessions.SEEN_AT] = now
        return self.get_response(request)


# What a session gated by the 2FA policy may still reach: the way to enable 2FA, and out.
GATE_OPEN = (
    "/security/2fa",
    "/security/confirm",
    "/webauthn/options",  # the browser prompt of Security → 2FA → Add security key
    "/logout",
    "/static/",
    "/api/",
)


class PolicyGateMiddleware:
    """A Sub-Admin who must have 2FA and has not reaches only Security → 2FA (SPEC §12)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        account = request.user
        if (
            account.is_authenticated
            and not account.is_owner
            and not request.path.startswith(GATE_OPEN)
            and gate.gated(account)
        ):
            messages.warning(request, policy.REQUIRED)
            return redirect("2fa")
        return self.get_response(request)
