"""Response headers that Django 5.2 does not set by itself, and a 503 when the database is lost."""

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from adminpanel.net import forwarded_scheme
from adminpanel.views import form_too_large


class ForwardedProtoMiddleware:
    """Behind a TLS proxy named in ADMINPANEL_TRUSTED_PROXIES, its X-Forwarded-Proto says
    whether the client used HTTPS (for HSTS, Secure cookies, CSRF's origin check). From anyone
    else the header is ignored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        scheme = forwarded_scheme(request)
        if scheme:
            request.META["wsgi.url_scheme"] = scheme
        return self.get_response(request)


def declared_length(request) -> int | None:
    """The body length a request declares (0 without a Content-Length), or None when its
    Content-Length is not a number of bytes. Bodies are limited to body_limit(request): forms
    here, /api/ in ApiMiddleware."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if length >= 0 else None


def body_limit(request) -> int:
    """The largest body this request may have: 1 MiB, or 4 MiB for a mailbox CSV import."""
    if request.path in settings.IMPORT_PATHS:
        return settings.IMPORT_BODY_LIMIT
    return settings.BODY_LIMIT


class FormTooLargeMiddleware:
    """A form over body_limit (1 MiB; a CSV import 4 MiB) is refused before anything reads it.

    Django refuses it too (400), when the CSRF check reads the form, but logs a traceback each
    time: a cheap way to flood the log. An /api/ request over the limit never gets here:
    ApiMiddleware, earlier in MIDDLEWARE, answers it 413 (JSON).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit(request)
        if (declared_length(request) or 0) > limit:
            return form_too_large(request, limit)
        return self.get_response(request)


HOST_PREFIX = "__Host-"


def _host_cookie_names() -> tuple[str, ...]:
    return (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)


class HostPrefixCookiesMiddleware:
    """Over HTTPS the session and CSRF cookies are named `__Host-…`: a browser keeps such a
    cookie only if it is Secure, has Path=/ and no Domain, so no sibling subdomain and no
    plain-HTTP answer can plant or overwrite one. Over plain HTTP (http://localhost in
    development) they keep their plain names, which browsers would refuse with the prefix.

    Django reads and writes the plain names; this renames them at the edge, before the
    session and CSRF middleware read the request and after they wrote the response. Over
    HTTPS a cookie with the plain name is ignored: anyone could have set it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        secure = request.is_secure()
        if secure:
            cookies = dict(request.COOKIES)
            for name in _host_cookie_names():
                cookies.pop(name, None)
                if HOST_PREFIX + name in cookies:
                    cookies[name] = cookies.pop(HOST_PREFIX + name)
            request.COOKIES = cookies
        response = self.get_response(request)
        if secure:
            for name in _host_cookie_names():
                morsel = response.cookies.pop(name, None)
                if morsel is None:
                    continue
                response.cookies[HOST_PREFIX + name] = morsel.value
                renamed = response.cookies[HOST_PREFIX + name]
                for attribute in ("expires", "max-age", "httponly", "samesite"):
                    renamed[attribute] = morsel[attribute]
                renamed["path"], renamed["secure"], renamed["domain"] = "/", True, ""
        return response


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if request.is_secure():
            # Secure cookies whenever we are served over HTTPS, without breaking plain-HTTP setups.
            for morsel in response.cookies.values():
                morsel["secure"] = True
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


# --- a lost database: 503, not 500 --------------------------------------------------------

DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER = 5
DATABASE_MESSAGE = "The database cannot be reached right now. Try again in a moment."
logger = logging.getLogger("adminpanel.database")


def _remember_database_error(sender, request=None, **kwargs) -> None:
    """got_request_exception fires inside Django's except block, so sys.exc_info() is the error."""
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        request.database_unavailable = True


def database_unavailable_response(request) -> HttpResponse:
    """A calm 503 (JSON under /api/), rendered without touching the database."""
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": "database_unavailable", "message": DATABASE_MESSAGE}, status=503
        )
    else:
        # No request context: the page must not ask the database who is logged in.
        body = render_to_string(
            "error.html", {"title": "Temporarily unavailable", "text": DATABASE_MESSAGE}
        )
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


class DatabaseUnavailableMiddleware:
    """A database connection lost or refused mid-request gives a clean 503, never a 500.

    First in MIDDLEWARE: errors in views arrive through process_exception; errors in other
    middleware (loading or saving the session) arrive as Django's 500, which got_request_exception
    has marked, and are replaced here. Django then closes the broken connection at the end of
    the request (CONN_HEALTH_CHECKS), so the next request gets a fresh one.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(
            _remember_database_error, dispatch_uid="adminpanel.database_unavailable"
        )

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except DATABASE_ERRORS as error:
            # Django's own 500 page needed the database too (it asks who is logged in).
            return self.process_exception(request, error)
        if response.status_code == 500 and getattr(request, "database_unavailable", False):
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning(
            "database unavailable during %s %s: %s", request.method, request.path, exception
        )
        request.database_unavailable = True
        return database_unavailable_response(request)
