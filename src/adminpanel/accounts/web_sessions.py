"""An account's signed-in web sessions: listed, ended one by one or all but this one (SPEC §12).

Sessions live in Django's session table (adminpanel.sessions); a WebSession row beside each
says whose it is. Ending a session deletes its row in that table, so it ends on every instance
at once: the next request anywhere finds no session.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from adminpanel import audit, prepared, sessions
from adminpanel.accounts.models import Account, WebSession
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import get_by_id
from adminpanel.net import client_ip

# What a session remembers about its sign-in (timestamps, as SessionLifetimeMiddleware reads).
LOGIN_AT = "login_at"
SEEN_AT = "seen_at"
CONFIRMED_AT = "confirmed_at"  # the last time the password (and 2FA) was given: §12 Confirm access
TWO_FACTOR = sessions.TWO_FACTOR  # this session passed the second factor (the audit log says)
RECOVERY_CODES_LEFT = "recovery_codes_left"  # it signed in with a recovery code: how many left


@dataclass(frozen=True)
class SessionView:
    """One row of Security → Sessions."""

    pk: int
    user_agent: str
    ip: str
    signed_in: datetime
    last_active: datetime
    two_factor: bool
    current: bool


def start(
    request: HttpRequest,
    account: Account,
    *,
    two_factor: bool,
    now: datetime,
    recovery_codes_left: int | None = None,
) -> None:
    """Stamp a session that has just logged in, save it, and record whose it is.

    recovery_codes_left: how many are left when the second factor was a recovery code (Home
    then warns). Call inside the login's transaction, after django.contrib.auth.login().
    """
    session = request.session
    stamp = now.timestamp()
    session[LOGIN_AT] = session[SEEN_AT] = session[CONFIRMED_AT] = stamp
    session[TWO_FACTOR] = two_factor
    if recovery_codes_left is not None:
        session[RECOVERY_CODES_LEFT] = recovery_codes_left
    session.save()  # the new key exists from here on
    _forget_dead(account)
    # Every sign-in writes one: its INSERT is built once per process (adminpanel.prepared).
    prepared.insert(
        WebSession(
            session_key=session.session_key,
            account=account,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            signed_in_at=now,
            two_factor=two_factor,
        )
    )


def _forget_dead(account: Account) -> None:
    """Rows of sessions that expired without a logout (nobody came back to end them).

    One statement, a correlated NOT EXISTS (a primary-key probe per row of this account), in
    SQL: Django compiling this subquery cost more than PostgreSQL running it, about a tenth of
    a login's code step.
    """
    connection = connections[router.db_for_write(WebSession)]
    rows = connection.ops.quote_name(WebSession._meta.db_table)
    live = connection.ops.quote_name(Session._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {rows} WHERE account_id = %s AND NOT EXISTS ("  # noqa: S608 - our tables
            f"SELECT 1 FROM {live} WHERE {live}.session_key = {rows}.session_key"
            f" AND {live}.expire_date > %s)",
            [account.pk, connection.ops.adapt_datetimefield_value(timezone.now())],
        )


def forget(request: HttpRequest) -> None:
    """This session is ending (logout): its row goes with it."""
    if request.session.session_key:
        WebSession.objects.filter(session_key=request.session.session_key).delete()


def follow_new_key(request: HttpRequest, old_key: str | None) -> None:
    """The session got a new key (update_session_auth_hash cycles it): its row follows."""
    request.session.save()
    WebSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)


def mark_two_factor(request: HttpRequest) -> None:
    """This session has just shown a second factor (2FA enabled here, or access confirmed)."""
    request.session[TWO_FACTOR] = True
    WebSession.objects.filter(session_key=request.session.session_key).update(two_factor=True)


def _stamp(data: dict, key: str, default: datetime) -> datetime:
    value = data.get(key)
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else default


def sessions_of(account: Account, *, current_key: str | None, now: datetime) -> list[SessionView]:
    """The account's live sessions, this one first, then the most recently active."""
    rows = {row.session_key: row for row in WebSession.objects.filter(account=account)}
    found = Session.objects.filter(session_key__in=rows, expire_date__gt=timezone.now())
    views = []
    for session in found:
        row = rows[session.session_key]
        data = session.get_decoded()
        last_active = _stamp(data, SEEN_AT, row.signed_in_at)
        login_at = _stamp(data, LOGIN_AT, row.signed_in_at)
        idle = (now - last_active).total_seconds() > settings.SESSION_IDLE_SECONDS
        if idle or (now - login_at).total_seconds() > settings.SESSION_ABSOLUTE_SECONDS:
            continue  # ended by its limits (SessionLifetimeMiddleware), only not yet swept
        views.append(
            SessionView(
                pk=row.pk,
                user_agent=row.user_agent,
                ip=row.ip,
                signed_in=row.signed_in_at,
                last_active=last_active,
                two_factor=row.two_factor,
                current=session.session_key == current_key,
            )
        )
    return sorted(views, key=lambda v: (not v.current, -v.last_active.timestamp()))


def _end(rows, *, account: Account, reason: str, actor: Account | None, request) -> int:
    keys = list(rows.values_list("session_key", flat=True))
    if not keys:
        return 0
    Session.objects.filter(session_key__in=keys).delete()
    WebSession.objects.filter(session_key__in=keys).delete()
    audit.record(
        AuditEvent.WEB_SESSIONS_ENDED,
        actor=actor or account,
        about_account=account,
        request=request,
        account=account.username,
        reason=reason,
        sessions=len(keys),
    )
    return len(keys)


def end_session(account: Account, pk: object, *, request: HttpRequest) -> None:
    """Sign out one of the account's own sessions (NotFound if it is not one of them)."""
    row = get_by_id(WebSession.objects.filter(account=account), pk)
    rows = WebSession.objects.filter(pk=row.pk)
    _end(rows, account=account, reason="signed_out", actor=account, request=request)


def end_other_sessions(
    account: Account, *, reason: str, request: HttpRequest | None = None, actor=None
) -> int:
    """End every session of the account but the one making this request; returns how many.

    Called in the same transaction as the change that demands it (2FA enabled or disabled,
    password changed, 2FA reset, deactivated), so no session outlives that change.
    """
    session = getattr(request, "session", None)  # API requests have none
    keep = session.session_key if session is not None else None
    _end_pending_logins(account)
    rows = WebSession.objects.filter(account=account).exclude(session_key=keep)
    return _end(rows, account=account, reason=reason, actor=actor, request=request)


def _end_pending_logins(account: Account) -> None:
    """Password steps still waiting for a second factor end too: they have no row to delete,
    so the account's count of sign-outs moves past the one they remember."""
    Account.objects.filter(pk=account.pk).update(sign_outs=F("sign_outs") + 1)
    account.refresh_from_db(fields=["sign_outs"])  # a later save() of it must not undo this


def end_all_sessions(account: Account, *, reason: str, request=None, actor=None) -> int:
    """End every session of the account (deactivated, lost Admin Panel access, deleted)."""
    _end_pending_logins(account)
    rows = WebSession.objects.filter(account=account)
    return _end(rows, account=account, reason=reason, actor=actor, request=request)
