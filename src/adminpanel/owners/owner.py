"""A mailbox's owner as a kind of person (people.kinds, settings.PERSON_KINDS["mailbox"]).

`Owner` is what the second factor and the login steps are given (people.kinds.SignsIn): the
owner's person, the mailbox address as its name, and no Account row, so the Logs name the
owner by its address (SPEC §14: the mailbox address as actor).
"""

from dataclasses import dataclass

from django.http import HttpRequest

from adminpanel.mail.models import Mailbox
from adminpanel.owners import sessions


@dataclass(frozen=True)
class Owner:
    mailbox: Mailbox
    pk = None  # not an Account: audit rows carry the address as the actor's name

    @property
    def person_id(self) -> int:
        return self.mailbox.person_id

    @property
    def username(self) -> str:
        return self.mailbox.address


class MailboxKind:
    def protection_changed(
        self, who: Owner, change: str, *, request: HttpRequest | None, actor: object | None
    ) -> None:
        # As for an account (accounts.person): no session from before the change keeps access
        # it never proved. The mail apps follow by themselves: the mail servers read the
        # owner's 2FA through mailbox_owners_with_2fa at each login (mailserver 0016).
        sessions.end_other_sessions(who.mailbox, reason=change, request=request, actor=actor)
