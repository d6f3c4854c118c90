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
from django.db.models import F, Model, QuerySet
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


class SessionRows:
    """The signed-in sessions of one kind of person, each a row (session_key, the person, ip,
    user_agent, signed_in_at, two_factor) beside Django's session of the same key. This one
    implementation serves every kind: a kind names its table and the rows' field for the
    person, and says how an ending is logged and how pending sign-ins are ended
    (AccountSessions below; the mailbox owners' in owners.sessions)."""

    def __init__(self, rows: type[Model], person_field: str):
        self.rows = rows
        self.person_field = person_field

    def of(self, person: Model) -> QuerySet:
        return self.rows.objects.filter(**{self.person_field: person})

    def forget_dead(self, person: Model) -> None:
        """The person's rows of sessions that expired without a logout (nobody came back to
        end them), swept once per sign-in by the door (login.doors: at the password step or a
        passkey's, never at the code step: benchmarks/code.py).

        One statement, a correlated NOT EXISTS (a primary-key probe per row of this person), in
        SQL: Django compiling this subquery cost more than PostgreSQL running it.
        """
        connection = connections[router.db_for_write(self.rows)]
        rows = connection.ops.quote_name(self.rows._meta.db_table)
        column = connection.ops.quote_name(self.rows._meta.get_field(self.person_field).column)
        live = connection.ops.quote_name(Session._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {rows} WHERE {column} = %s AND NOT EXISTS ("  # noqa: S608 - our tables
                f"SELECT 1 FROM {live} WHERE {live}.session_key = {rows}.session_key"
                f" AND {live}.expire_date > %s)",
                [person.pk, connection.ops.adapt_datetimefield_value(timezone.now())],
            )

    def start(
        self, request: HttpRequest, person: Model, *, two_factor: bool, now: datetime
    ) -> None:
        """Stamp a session that has just signed in, save it, and record whose it is."""
        session = request.session
        session[LOGIN_AT] = session[SEEN_AT] = session[CONFIRMED_AT] = now.timestamp()
        session[TWO_FACTOR] = two_factor
        session.save()  # the new key exists from here on
        # Every sign-in writes one: its INSERT is built once per process (adminpanel.prepared).
        prepared.insert(
            self.rows(
                session_key=session.session_key,
                **{self.person_field: person},
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
                signed_in_at=now,
                two_factor=two_factor,
            )
        )

    def forget(self, request: HttpRequest) -> None:
        """This session is ending (logout): its row goes with it."""
        if request.session.session_key:
            self.rows.objects.filter(session_key=request.session.session_key).delete()

    def mark_two_factor(self, request: HttpRequest) -> None:
        """This session has just shown a second factor (2FA enabled here, or access confirmed)."""
        request.session[TWO_FACTOR] = True
        self.rows.objects.filter(session_key=request.session.session_key).update(two_factor=True)

    def live(self, person: Model) -> list[tuple[Model, Session]]:
        """The person's rows whose Django session has not expired, each with that session."""
        rows = {row.session_key: row for row in self.of(person)}
        found = Session.objects.filter(session_key__in=rows, expire_date__gt=timezone.now())
        return [(rows[session.session_key], session) for session in found]

    def end_session(self, person: Model, pk: object, *, request: HttpRequest) -> None:
        """Sign out one of the person's own sessions (NotFound if it is not one of them)."""
        row = get_by_id(self.of(person), pk)
        self._end(self.rows.objects.filter(pk=row.pk), person, "signed_out", None, request)

    def end_other_sessions(
        self, person: Model, *, reason: str, request: HttpRequest | None = None, actor=None
    ) -> int:
        """End every session of the person but the one making this request; returns how many.

        Called in the same transaction as the change that demands it (2FA enabled or disabled,
        password changed, 2FA reset, deactivated), so no session outlives that change. (The
        request's session, an API request has none, is kept only if it is one of the person's:
        another kind's key is in no row of this table.)
        """
        session = getattr(request, "session", None)
        keep = session.session_key if session is not None else None
        self.end_pending_logins(person)
        rows = self.of(person).exclude(session_key=keep)
        return self._end(rows, person, reason, actor, request)

    def end_all_sessions(self, person: Model, *, reason: str, request=None, actor=None) -> int:
        """End every session of the person (deactivated, lost Admin Panel access, deleted)."""
        self.end_pending_logins(person)
        return self._end(self.of(person), person, reason, actor, request)

    def _end(self, rows: QuerySet, person: Model, reason: str, actor, request) -> int:
        keys = list(rows.values_list("session_key", flat=True))
        if not keys:
            return 0
        Session.objects.filter(session_key__in=keys).delete()
        self.rows.objects.filter(session_key__in=keys).delete()
        self.log_ended(person, reason=reason, sessions=len(keys), actor=actor, request=request)
        return len(keys)

    def end_pending_logins(self, person: Model) -> None:
        """Password steps still waiting for a second factor end too: they have no row to
        delete, so the person's count of sign-outs moves past the one they remember."""
        raise NotImplementedError

    def log_ended(self, person: Model, *, reason: str, sessions: int, actor, request) -> None:
        raise NotImplementedError


class AccountSessions(SessionRows):
    """An Admin's or Sub-Admin's sessions (accounts.WebSession)."""

    def end_pending_logins(self, person: Account) -> None:
        Account.objects.filter(pk=person.pk).update(sign_outs=F("sign_outs") + 1)
        person.refresh_from_db(fields=["sign_outs"])  # a later save() of it must not undo this

    def log_ended(self, person: Account, *, reason: str, sessions: int, actor, request) -> None:
        audit.record(
            AuditEvent.WEB_SESSIONS_ENDED,
            actor=actor or person,
            about_account=person,
            request=request,
            account=person.username,
            reason=reason,
            sessions=sessions,
        )


ACCOUNTS = AccountSessions(WebSession, "account")
forget = ACCOUNTS.forget
forget_dead = ACCOUNTS.forget_dead
mark_two_factor = ACCOUNTS.mark_two_factor
end_session = ACCOUNTS.end_session
end_other_sessions = ACCOUNTS.end_other_sessions
end_all_sessions = ACCOUNTS.end_all_sessions


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
    if recovery_codes_left is not None:
        request.session[RECOVERY_CODES_LEFT] = recovery_codes_left
    ACCOUNTS.start(request, account, two_factor=two_factor, now=now)


def follow_new_key(request: HttpRequest, old_key: str | None) -> None:
    """The session got a new key (update_session_auth_hash cycles it): its row follows."""
    request.session.save()
    WebSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)


def _stamp(data: dict, key: str, default: datetime) -> datetime:
    value = data.get(key)
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else default


def sessions_of(account: Account, *, current_key: str | None, now: datetime) -> list[SessionView]:
    """The account's live sessions, this one first, then the most recently active."""
    views = []
    for row, session in ACCOUNTS.live(account):
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
