"""A mailbox owner's web sessions (SPEC §14): their own kind, never an Admin's.

The session data holds OWNER (the mailbox's id) instead of Django's auth keys, so an owner's
session is "not signed in" to every Admin page and the API, and an Admin's session holds no
OWNER for My mailbox. Timestamps and lifetimes are the Admin's (accounts.web_sessions keys,
settings.SESSION_IDLE_SECONDS / SESSION_ABSOLUTE_SECONDS). Ending a session deletes its row in
Django's session table: it ends on every instance at once.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.utils import timezone

from adminpanel import audit, clock
from adminpanel.accounts.web_sessions import CONFIRMED_AT, LOGIN_AT, SEEN_AT, TWO_FACTOR
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import get_by_id
from adminpanel.mail.models import Mailbox
from adminpanel.net import client_ip
from adminpanel.owners.models import OwnerSession

OWNER = "mailbox_owner"  # the session's mailbox id: this session is an owner's
SEEN_GRANULARITY = 60  # as SessionLifetimeMiddleware: the idle clock to the minute


@dataclass(frozen=True)
class SessionView:
    """One row of My mailbox → Sessions."""

    pk: int
    user_agent: str
    ip: str
    signed_in: datetime
    two_factor: bool
    current: bool


def start(request: HttpRequest, mailbox: Mailbox, *, two_factor: bool, now: datetime) -> None:
    """Make this (freshly keyed) session the owner's, save it, and record whose it is."""
    session = request.session
    session[OWNER] = mailbox.pk
    session[LOGIN_AT] = session[SEEN_AT] = session[CONFIRMED_AT] = now.timestamp()
    session[TWO_FACTOR] = two_factor
    session.save()
    OwnerSession.objects.create(
        session_key=session.session_key,
        mailbox=mailbox,
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:512],
        signed_in_at=now,
        two_factor=two_factor,
    )


def signed_in_mailbox(request: HttpRequest) -> tuple[Mailbox | None, str]:
    """(the mailbox whose owner this session is, "") or (None, why it ended: "" for a session
    that never was an owner's). Ends the session when its limits passed or its mailbox may no
    longer sign in (deleted, Sign-in allowed off, inactive)."""
    session = request.session
    pk = session.get(OWNER)
    if pk is None or request.user.is_authenticated:  # an Admin's session is never an owner's
        return None, ""
    now = clock.now().timestamp()
    reason = ""
    if now - session.get(LOGIN_AT, 0) > settings.SESSION_ABSOLUTE_SECONDS:
        reason = "session_expired"
    elif now - session.get(SEEN_AT, 0) > settings.SESSION_IDLE_SECONDS:
        reason = "session_idle"
    mailbox = Mailbox.objects.select_related("domain").filter(pk=pk).first()
    if not reason and (mailbox is None or not may_sign_in(mailbox)):
        reason = "sign_in_not_allowed"
    if reason:
        forget(request)
        session.flush()
        return None, reason
    if now - session.get(SEEN_AT, 0) > SEEN_GRANULARITY:
        session[SEEN_AT] = now
    return mailbox, ""


def may_sign_in(mailbox: Mailbox) -> bool:
    """A live, active mailbox of an active domain with Sign-in allowed (SPEC §16)."""
    domain = mailbox.domain
    return (
        mailbox.deleted_at is None
        and mailbox.active
        and mailbox.sign_in_allowed
        and domain is not None
        and domain.active
    )


def forget(request: HttpRequest) -> None:
    """This session is ending (logout): its row goes with it."""
    if request.session.session_key:
        OwnerSession.objects.filter(session_key=request.session.session_key).delete()


def sessions_of(mailbox: Mailbox, *, current_key: str | None) -> list[SessionView]:
    """The owner's live sessions, this one first, then the newest."""
    rows = {row.session_key: row for row in OwnerSession.objects.filter(mailbox=mailbox)}
    live = Session.objects.filter(session_key__in=rows, expire_date__gt=timezone.now())
    views = [
        SessionView(
            pk=rows[key].pk,
            user_agent=rows[key].user_agent,
            ip=rows[key].ip,
            signed_in=rows[key].signed_in_at,
            two_factor=rows[key].two_factor,
            current=key == current_key,
        )
        for key in live.values_list("session_key", flat=True)
    ]
    return sorted(views, key=lambda v: (not v.current, -v.signed_in.timestamp()))


def _end(rows, *, mailbox: Mailbox, reason: str, actor, request) -> int:
    keys = list(rows.values_list("session_key", flat=True))
    if not keys:
        return 0
    Session.objects.filter(session_key__in=keys).delete()
    OwnerSession.objects.filter(session_key__in=keys).delete()
    audit.record(
        AuditEvent.MAILBOX_SESSIONS_ENDED,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name="" if getattr(actor, "pk", None) else mailbox.address,
        request=request,
        mailbox=mailbox.address,
        reason=reason,
        sessions=len(keys),
    )
    return len(keys)


def end_session(mailbox: Mailbox, pk: object, *, request: HttpRequest) -> None:
    """Sign out one of the owner's own sessions (NotFound if it is not one of them)."""
    row = get_by_id(OwnerSession.objects.filter(mailbox=mailbox), pk)
    _end(
        OwnerSession.objects.filter(pk=row.pk),
        mailbox=mailbox,
        reason="signed_out",
        actor=None,
        request=request,
    )


def end_other_sessions(
    mailbox: Mailbox, *, reason: str, request: HttpRequest | None = None, actor=None
) -> int:
    """End every session of the owner but the one making this request (none when the Admin
    or the API makes it); called inside the change's transaction."""
    session = getattr(request, "session", None)
    keep = session.session_key if session is not None and session.get(OWNER) else None
    rows = OwnerSession.objects.filter(mailbox=mailbox).exclude(session_key=keep)
    return _end(rows, mailbox=mailbox, reason=reason, actor=actor, request=request)


def mark_two_factor(request: HttpRequest) -> None:
    """This owner's session has just shown a second factor (2FA enabled here)."""
    request.session[TWO_FACTOR] = True
    OwnerSession.objects.filter(session_key=request.session.session_key).update(two_factor=True)
