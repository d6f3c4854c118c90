"""A mailbox owner's web sessions (SPEC §14): their own kind, never an Admin's.

The session data holds OWNER (the mailbox's id) instead of Django's auth keys, so an owner's
session is "not signed in" to every Admin page and the API, and an Admin's session holds no
OWNER for My mailbox. Timestamps, lifetimes and the rows beside the sessions are the Admin's
(accounts.web_sessions: its keys, its SessionRows given the owner's table; settings.
SESSION_IDLE_SECONDS / SESSION_ABSOLUTE_SECONDS). Ending a session deletes its row in Django's
session table: it ends on every instance at once.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from adminpanel import audit, clock
from adminpanel.accounts.web_sessions import LOGIN_AT, SEEN_AT, SessionRows
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.mail.models import Mailbox
from adminpanel.owners.models import OwnerSession, SignOuts

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


class OwnerSessions(SessionRows):
    """A mailbox owner's sessions (OwnerSession): accounts.web_sessions' implementation, with
    the owner's table, counter of sign-outs and log line."""

    def end_pending_logins(self, person: Mailbox) -> None:
        # One upsert, atomic by itself: a mailbox gets its row at its first sign-out.
        table = connection.ops.quote_name(SignOuts._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (mailbox_id, count) VALUES (%s, 1) "  # noqa: S608 - fixed names
                f"ON CONFLICT (mailbox_id) DO UPDATE SET count = {table}.count + 1",
                [person.pk],
            )

    def log_ended(self, person: Mailbox, *, reason: str, sessions: int, actor, request) -> None:
        by_account = getattr(actor, "pk", None) is not None
        audit.record(
            AuditEvent.MAILBOX_SESSIONS_ENDED,
            actor=actor if by_account else None,
            actor_name="" if by_account else person.address,
            request=request,
            mailbox=person.address,
            reason=reason,
            sessions=sessions,
        )


OWNERS = OwnerSessions(OwnerSession, "mailbox")
forget = OWNERS.forget
forget_dead = OWNERS.forget_dead
mark_two_factor = OWNERS.mark_two_factor
end_session = OWNERS.end_session
end_other_sessions = OWNERS.end_other_sessions


def start(request: HttpRequest, mailbox: Mailbox, *, two_factor: bool, now: datetime) -> None:
    """Make this (freshly keyed) session the owner's, save it, and record whose it is."""
    request.session[OWNER] = mailbox.pk
    OWNERS.start(request, mailbox, two_factor=two_factor, now=now)


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


def sessions_of(mailbox: Mailbox, *, current_key: str | None) -> list[SessionView]:
    """The owner's live sessions, this one first, then the newest."""
    views = [
        SessionView(
            pk=row.pk,
            user_agent=row.user_agent,
            ip=row.ip,
            signed_in=row.signed_in_at,
            two_factor=row.two_factor,
            current=session.session_key == current_key,
        )
        for row, session in OWNERS.live(mailbox)
    ]
    return sorted(views, key=lambda v: (not v.current, -v.signed_in.timestamp()))


def sign_outs(mailbox: Mailbox) -> int:
    """How many times the owner's other sessions were ended (a pending sign-in's binding)."""
    return SignOuts.objects.filter(mailbox=mailbox).values_list("count", flat=True).first() or 0
