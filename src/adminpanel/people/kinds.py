"""Kinds of person, and what the second factor asks of them (README "A new kind of person").

Code that protects a person (twofactor/) knows only the Person row and the object that
signed in (`SignsIn`); it never imports a kind. What follows a change of that protection
(other sessions end, API tokens die) is the kind's, found by Person.kind in
settings.PERSON_KINDS, as Django finds its session engine or auth backends.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils.module_loading import import_string

from adminpanel.errors import Refused
from adminpanel.people.models import Person

# The changes a kind hears of: the second factor turned on or off (by its owner, or reset by
# someone else), or the authenticator app replaced or removed while keys remain.
ENABLED = "2fa_enabled"
DISABLED = "2fa_disabled"
RESET = "2fa_reset"
APP_REPLACED = "2fa_app_replaced"
APP_REMOVED = "2fa_app_removed"


class SignsIn(Protocol):
    """Whoever signs in with a second factor: an accounts.Account today.

    `person_id`: its Person; `username`: the name its authenticators and the Logs show;
    `pk`: its row for the Logs' actor (None for a kind the log names by username only).
    """

    person_id: int
    username: str
    pk: object


@dataclass(frozen=True)
class Unread:
    """Whoever signs in, not read yet: the second factor reads it with its person's lock, in
    the statement that reads the person's code state (fresh under the lock, and one round trip
    less per answer than reading it first). A `model` row (a kind's, with a `person`) by primary
    key, of person `person_id`. admit(found), under the lock: None when that row (None: gone)
    may answer, else the Refused to answer with. Stands for it where only `person_id` is asked
    (which factors it has)."""

    model: type[models.Model]
    pk: int
    person_id: int
    admit: Callable[[SignsIn | None], Refused | None]


class Kind(Protocol):
    def protection_changed(
        self, who: SignsIn, change: str, *, request: HttpRequest | None, actor: object | None
    ) -> None:
        """Called inside the transaction of the change, under the person's lock."""


@functools.cache
def _load(path: str) -> Kind:
    return import_string(path)()


def kind_of(person: Person) -> Kind:
    return _load(settings.PERSON_KINDS[person.kind])


def protection_changed(
    person: Person,
    who: SignsIn,
    change: str,
    *,
    request: HttpRequest | None = None,
    actor: object | None = None,
) -> None:
    """Tell the person's kind that its second factor changed (one of the names above)."""
    kind_of(person).protection_changed(who, change, request=request, actor=actor)


def lock(who: SignsIn) -> Person:
    """Lock the person's row (the one lock of its security state) and return it, fresh."""
    return Person.objects.select_for_update().get(pk=who.person_id)
