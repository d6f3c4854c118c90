"""The door of My mailbox (/mailbox/login): a mailbox's owner signs in with the address and the
mailbox password through the house's login steps (login.services, login.doors.Door)."""

from django.contrib.auth import logout
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from adminpanel import audit, clock
from adminpanel.accounts import guessing
from adminpanel.accounts.models import NameFailures
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.errors import Invalid, Refused
from adminpanel.login.doors import Admission, Admit
from adminpanel.mail.addresses import split_address
from adminpanel.mail.models import Mailbox
from adminpanel.mail.owner_passwords import check_mailbox_password
from adminpanel.owners import sessions
from adminpanel.owners.owner import Owner
from adminpanel.people.models import Person

SIGN_IN_OFF = "Signing in to this mailbox is turned off. Ask your mail administrator."
NAME_PREFIX = "mailbox:"  # an owner's streak in accounts.guessing: apart from account names


def _streak_name(name: str) -> str:
    return (NAME_PREFIX + name)[: NameFailures._meta.get_field("name").max_length]


class OwnerDoor:
    channel = "mailbox"
    pending_key = "pending_mailbox_login"
    max_name = 320
    invalid = "Invalid email address or password."

    def signed_in(self, request: HttpRequest) -> bool:
        return sessions.signed_in_mailbox(request)[0] is not None

    def find(self, name: str) -> Owner | None:
        try:
            local, domain = split_address(name)
        except Invalid:
            return None
        mailbox = (
            Mailbox.objects.select_related("domain")
            .filter(local_part__iexact=local, domain__name=domain)
            .first()
        )
        return Owner(mailbox) if mailbox is not None else None

    def get(self, pk: object) -> Owner | None:
        if not isinstance(pk, int):
            return None
        mailbox = Mailbox.objects.select_related("domain").filter(pk=pk).first()
        if mailbox is None or not sessions.may_sign_in(mailbox):
            return None
        return Owner(mailbox)

    def pk(self, who: Owner) -> int:
        return who.mailbox.pk

    def unread(self, pk: object, person_id: object, admit: Admit) -> None:
        return None  # an Owner is a mailbox and its domain: read first (get)

    def outside(self, who: Owner, ip: str) -> bool:
        return False  # a mailbox has no allowed IPs

    def take_slots(self, who: Owner | None, name: str, ip: str, now) -> None:
        # Per address (the name's streak) and per IP, whether or not the mailbox exists.
        guessing.take_slots(ip, None, now, name=_streak_name(name))

    def release_slots(self, who: Owner, name: str, ip: str) -> None:
        guessing.release_name_slots(_streak_name(name), ip)
        self.forget_dead_sessions(who)

    def forget_dead_sessions(self, who: Owner) -> None:
        sessions.forget_dead(who.mailbox)

    def check_password(self, who: Owner, password: str) -> bool:
        return check_mailbox_password(who.mailbox, password)

    def refusal(self, who: Owner, channel: str) -> Refused | None:
        if sessions.may_sign_in(who.mailbox):
            return None
        return Refused("sign_in_off", SIGN_IN_OFF)

    def check_again(self, who: Owner, password: str, *, ip: str, now) -> bool:
        name = who.mailbox.address.lower()
        self.take_slots(who, name, ip, now)
        if not self.check_password(who, password):
            return False
        self.release_slots(who, name, ip)
        return True

    def mark_two_factor(self, request: HttpRequest) -> None:
        sessions.mark_two_factor(request)

    def passkey_admission(self, ip: str) -> Admission:
        def admit(person: Person) -> tuple[Owner | None, Refused | None]:
            # Only a mailbox's person: an Admin's passkey is unknown here, as an owner's at /login.
            mailbox = Mailbox.objects.select_related("domain").filter(person=person).first()
            if mailbox is None:
                return None, None
            if not sessions.may_sign_in(mailbox):
                return Owner(mailbox), Refused("unknown_key", SIGN_IN_OFF)
            return Owner(mailbox), None

        return admit

    def binding(self, who: Owner) -> str:
        # A new password ends a pending second step (its hash changes with it), and so does
        # "Sign out all other sessions" (the count moves on).
        password = salted_hmac("owners.pending", who.mailbox.password_hash).hexdigest()
        return f"{password}:{sessions.sign_outs(who.mailbox)}"

    def start(self, request: HttpRequest, who: Owner, *, with_2fa: bool, codes_left) -> None:
        if request.user.is_authenticated:
            logout(request)  # a session belongs to one kind: an Admin's ends here
        request.session.cycle_key()  # a new session id
        sessions.start(request, who.mailbox, two_factor=with_2fa, now=clock.now())

    def sign_out(self, request: HttpRequest) -> None:
        mailbox, _ = sessions.signed_in_mailbox(request)
        if mailbox is not None:
            audit.record(AuditEvent.MAILBOX_LOGOUT, actor=Owner(mailbox), request=request)
            sessions.forget(request)


OWNERS = OwnerDoor()
