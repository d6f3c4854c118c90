"""Confirm access (SPEC §12): sensitive actions need an authentication of the last 10 minutes.

A login counts as one; otherwise the page titled "Confirm access" asks for the password and,
when 2FA is on, a second-factor answer (whatever the second factor accepts: a code or a
recovery code today, a security key when that kind of factor is added). Both are counted by
the same throttles as a login, so a stolen session cannot guess through this page.
"""

import copy
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect

from adminpanel import audit, clock
from adminpanel.accounts import guessing, web_sessions
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.login.doors import ACCOUNTS, Door
from adminpanel.net import client_ip
from adminpanel.twofactor import interface as twofactor

CONFIRM_SECONDS = 10 * 60
PASSWORD_REASONS = ("invalid_credentials", "too_many_attempts")  # the rest concern the code
STALE_LOGIN = "This change needs a login made in the last 10 minutes: log in again for a new token."
WRONG_PASSWORD = "Wrong password."  # noqa: S105 - a message, not a password
RESUME = "confirm_access_resume"  # the session key of a POST that waits for Confirm access


def is_recent(request: HttpRequest, now: datetime) -> bool:
    """Did this session authenticate (log in or confirm access) in the last 10 minutes?"""
    confirmed = request.session.get(web_sessions.CONFIRMED_AT)
    return isinstance(confirmed, int | float) and now.timestamp() - confirmed <= CONFIRM_SECONDS


def require_recent_login(logged_in_at: datetime, now: datetime) -> None:
    """For the API, whose token comes from a password login: a token older than 10 minutes
    may not make the changes that ask a web session to confirm access (Refused)."""
    if (now - logged_in_at).total_seconds() > CONFIRM_SECONDS:
        raise Refused("reauthentication_required", STALE_LOGIN)


def needs_second_factor(account) -> bool:
    return twofactor.is_enabled(account)


def _check_password(
    account, password: str, *, ip: str, now: datetime, request, door: Door = ACCOUNTS
) -> None:
    """The password again, counted like a login's attempts (accounts.guessing)."""
    try:
        right = door.check_again(account, password, ip=ip, now=now)
    except guessing.TooManyAttempts as refusal:
        if refusal.first:
            audit.record(AuditEvent.ACCESS_CONFIRM_THROTTLED, actor=account, request=request)
        raise Refused("too_many_attempts", refusal.message, refusal.retry_after) from None
    if not right:
        audit.record(
            AuditEvent.ACCESS_CONFIRM_FAILED, actor=account, request=request, reason="password"
        )
        raise Refused("invalid_credentials", WRONG_PASSWORD)


def confirm_access(
    request: HttpRequest,
    password: object,
    answer: object,
    *,
    now: datetime,
    key_answer=None,
    door: Door = ACCOUNTS,
    who=None,
) -> None:
    """Check the password and (when 2FA is on) the second-factor answer, a code or a security
    key's signed answer; then the session counts as freshly authenticated for 10 minutes.
    `who` and `door`: whoever this session is signed in as (a mailbox owner at OWNERS), by
    default the account of request.user. Raises Refused."""
    account = request.user if who is None else who
    if not isinstance(password, str) or not password:
        raise Refused("invalid_credentials", door.invalid)
    _check_password(account, password, ip=client_ip(request), now=now, request=request, door=door)
    two_factor = needs_second_factor(account)
    if two_factor:
        # Whatever the account's second factor accepts answers here (interface.verify).
        if key_answer:
            twofactor.verify_key(account, key_answer, purpose="confirm", now=now, request=request)
        else:
            twofactor.verify(account, answer, purpose="confirm", now=now, request=request)
        door.mark_two_factor(request)
    request.session[web_sessions.CONFIRMED_AT] = now.timestamp()
    audit.record(AuditEvent.ACCESS_CONFIRMED, actor=account, request=request, two_factor=two_factor)


def confirm_access_required(
    view: Callable[..., HttpResponse] | None = None, *, keep: tuple[str, ...] = ()
):
    """Send a session that has not authenticated in the last 10 minutes to Confirm access,
    which brings it back to this page.

    A POST comes back as a GET (nothing is done unasked), unless the view names the fields to
    `keep`: then what was typed in them (never a password or a code) waits in the session, and
    the first visit after confirming carries the POST out, as if Save had been pressed again.
    `@confirm_access_required` and `@confirm_access_required(keep=(…))` both work.
    """
    if view is None:
        return lambda wrapped: confirm_access_required(wrapped, keep=keep)

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            now = clock.now()
            if not is_recent(request, now):
                if keep and request.method == "POST":
                    _put_aside(request, keep, now)
                return redirect(f"/security/confirm?{urlencode({'next': request.get_full_path()})}")
            if keep and request.method == "GET":
                resumed = _take_back(request, now)
                if resumed is not None:
                    # The view sees the POST; the request itself (and its log line) stays a GET.
                    request = copy.copy(request)
                    request.method = "POST"
                    request.POST = resumed
        return view(request, *args, **kwargs)

    return guarded


def _put_aside(request: HttpRequest, keep: tuple[str, ...], now: datetime) -> None:
    """Keep the named fields of a POST that needs Confirm access first (CSRF checked already)."""
    fields = {name: request.POST.getlist(name) for name in keep if name in request.POST}
    request.session[RESUME] = {"path": request.path, "fields": fields, "at": now.timestamp()}


def waiting_post(request: HttpRequest, path: str) -> bool:
    """Is a POST to `path` waiting for Confirm access (to be carried out after it)?"""
    kept = request.session.get(RESUME)
    return isinstance(kept, dict) and kept.get("path") == path


def _take_back(request: HttpRequest, now: datetime) -> QueryDict | None:
    """The POST put aside for this page, once, if it was put aside in the last 10 minutes."""
    kept = request.session.get(RESUME)
    if not isinstance(kept, dict) or kept.get("path") != request.path:
        return None
    del request.session[RESUME]
    at = kept.get("at")
    if not isinstance(at, int | float) or now.timestamp() - at > CONFIRM_SECONDS:
        return None
    data = QueryDict(mutable=True)
    for name, values in kept.get("fields", {}).items():
        data.setlist(name, [str(value) for value in values])
    return data
