"""Who signs in at a login page, and what differs by kind of person (ARCHITECTURE "The login
serves two kinds of people"): the login steps of login.services take a Door and are the same
code for every kind. ACCOUNTS is the Admin's and the Sub-Admins' door (/login, the API); a
mailbox owner's (/mailbox/login) is owners.door.OWNERS.
"""

from collections.abc import Callable
from typing import Protocol

from django.contrib.auth import login
from django.http import HttpRequest

from adminpanel import audit, clock, prepared
from adminpanel.accounts import access, guessing, web_sessions
from adminpanel.accounts.models import Account
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Refused
from adminpanel.people.kinds import SignsIn, Unread
from adminpanel.people.models import Person

Admission = Callable[[Person], tuple[SignsIn | None, Refused | None]]
Admit = Callable[[SignsIn | None], Refused | None]  # people.kinds.Unread's


class Door(Protocol):
    channel: str  # its events in audit LOGIN_EVENTS (the API login of accounts says "api")
    pending_key: str  # where its pending second step waits in the session
    max_name: int  # a name is cut to this length
    invalid: str  # the one answer to a wrong name or password

    def signed_in(self, request: HttpRequest) -> bool:
        """This session is signed in at this door."""

    def find(self, name: str) -> SignsIn | None:
        """Whoever `name` (stripped, lower case) names, whether or not it may sign in."""

    def get(self, pk: object) -> SignsIn | None:
        """Whoever a pending login remembers, if it may still sign in."""

    def pk(self, who: SignsIn) -> object:
        """What a pending login remembers of it (a number)."""

    def unread(self, pk: object, person_id: object, admit: Admit) -> Unread | None:
        """Whoever a pending login remembers (pk, of person person_id), to be read by the
        second factor with its person's lock and then admitted by `admit` if it may still sign
        in; None: read it first (get)."""

    def outside(self, who: SignsIn, ip: str) -> bool:
        """Its allowed addresses exclude `ip` (then no answer may depend on the password)."""

    def take_slots(self, who: SignsIn | None, name: str, ip: str, now) -> None:
        """One attempt in the guessing limits (accounts.guessing), or TooManyAttempts."""

    def release_slots(self, who: SignsIn, name: str, ip: str) -> None:
        """The right password: its slot and its streak are given back, and the person's rows
        of sessions that expired unseen are swept (forget_dead_sessions)."""

    def forget_dead_sessions(self, who: SignsIn) -> None:
        """Sweep the person's rows of sessions that expired unseen: once per sign-in, at the
        password step or a passkey's (never at the code step)."""

    def check_password(self, who: SignsIn, password: str) -> bool:
        """The right password of one who may sign in (a password may be re-hashed here)."""

    def refusal(self, who: SignsIn, channel: str) -> Refused | None:
        """Why it may not use this door after the right password, or None."""

    def check_again(self, who: SignsIn, password: str, *, ip: str, now) -> bool:
        """A signed-in person's password asked again (Confirm access), counted in the same
        limits as a sign-in: TooManyAttempts before any hash, else whether it was right."""

    def mark_two_factor(self, request: HttpRequest) -> None:
        """This signed-in session has just shown a second factor."""

    def passkey_admission(self, ip: str) -> Admission:
        """For Sign in with a passkey at this door (twofactor's `admit`): whoever of this
        door's kind a key's person is (None: another kind, never admitted here), and why it may
        not sign in from `ip` ("unknown_key" for one that may not sign in at all)."""

    def binding(self, who: SignsIn) -> str:
        """Changes when its password changes or its sessions are ended: a pending second step
        begun before then is ended."""

    def start(self, request: HttpRequest, who: SignsIn, *, with_2fa: bool, codes_left) -> None:
        """Make this request's (fresh) session its signed-in session."""

    def sign_out(self, request: HttpRequest) -> None:
        """Log out, before the session is flushed: its row goes, the Logs say who."""


class AccountDoor:
    channel = "web"
    pending_key = "pending_login"
    max_name = 150
    invalid = "Invalid username or password."

    def signed_in(self, request: HttpRequest) -> bool:
        return request.user.is_authenticated

    def find(self, name: str) -> Account | None:
        return Account.objects.filter(username__iexact=name).first()

    def get(self, pk: object) -> Account | None:
        # Every answer to the pop-up asks this: one statement built once per process.
        return prepared.get(Account, id=pk, is_active=True)

    def pk(self, who: Account) -> int:
        return who.pk

    def unread(self, pk: object, person_id: object, admit: Admit) -> Unread | None:
        if not isinstance(pk, int) or not isinstance(person_id, int):
            return None  # a pending login from before "person" was remembered

        def active(found: Account | None) -> Refused | None:
            return admit(found if found is not None and found.is_active else None)

        return Unread(Account, pk, person_id, active)

    def outside(self, who: Account, ip: str) -> bool:
        return access.ip_refusal(who, ip) is not None

    def take_slots(self, who: Account | None, name: str, ip: str, now) -> None:
        # Guesses from outside the allowed IPs cannot log in: they never make the owner wait.
        inside = who is not None and not self.outside(who, ip)
        guessing.take_slots(ip, who if inside else None, now, name=name)

    def release_slots(self, who: Account, name: str, ip: str) -> None:
        guessing.release_slots(who, ip)
        self.forget_dead_sessions(who)

    def forget_dead_sessions(self, who: Account) -> None:
        web_sessions.forget_dead(who)

    def check_password(self, who: Account, password: str) -> bool:
        return who.check_password(password) and who.is_active

    def refusal(self, who: Account, channel: str) -> Refused | None:
        return access.channel_refusal(who, channel)

    def check_again(self, who: Account, password: str, *, ip: str, now) -> bool:
        return guessing.check_again(who, password, ip=ip, now=now)

    def mark_two_factor(self, request: HttpRequest) -> None:
        web_sessions.mark_two_factor(request)

    def passkey_admission(self, ip: str) -> Admission:
        return access.passkey_admission(ip)

    def binding(self, who: Account) -> str:
        return f"{who.get_session_auth_hash()}:{who.sign_outs}"

    def start(self, request: HttpRequest, who: Account, *, with_2fa: bool, codes_left) -> None:
        login(request, who)  # a new session id
        web_sessions.start(
            request, who, two_factor=with_2fa, now=clock.now(), recovery_codes_left=codes_left
        )

    def sign_out(self, request: HttpRequest) -> None:
        if request.user.is_authenticated:
            audit.record(AuditEvent.WEB_LOGOUT, actor=request.user, request=request)
            web_sessions.forget(request)


ACCOUNTS = AccountDoor()
