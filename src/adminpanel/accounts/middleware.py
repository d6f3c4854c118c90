"""Sessions end after 1 hour without activity and 24 hours after login (SPEC §3.6)."""

from django.conf import settings
from django.contrib.auth import logout

from adminpanel import clock

# Refreshing the idle clock on every request would write the session row every time;
# once a minute keeps the idle limit exact to the minute at a fraction of the writes.
SEEN_GRANULARITY = 60


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = clock.now().timestamp()
            login_at = request.session.get("login_at", 0)
            seen_at = request.session.get("seen_at", 0)
            if (
                now - login_at > settings.SESSION_ABSOLUTE_SECONDS
                or now - seen_at > settings.SESSION_IDLE_SECONDS
            ):
                logout(request)
            elif now - seen_at > SEEN_GRANULARITY:
                request.session["seen_at"] = now
        return self.get_response(request)
