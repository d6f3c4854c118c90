"""Limits on password guessing (SPEC §5, §12), decided in the database before any hash.

Two counters, each reserved before the password is checked so that concurrent guesses
cannot all slip past a check together:
- per client IP, whatever the username: 10 failures in a 15-minute window (so at most 10 per
  username and IP, §5). One row per IP for every name, real or invented: a spray adds no row
  per name, and a spent window answers alike for names that exist and names that do not
  (§6: no answer tells whether an account exists);
- per account, from any number of addresses: after 100 consecutive failures each further
  attempt waits, 1 minute doubling up to 1 hour; a success or a quiet day resets it (§12).
  Not from an address the account completed a sign-in from in the last 90 days (its
  owner's, most likely): there only the address's own limit applies, so that failures from
  anywhere else cannot lock the owner out (ASVS V6.3.1), while unknown addresses keep waiting.
- per name, by the same schedule, for names whose account's streak does not count them: a
  name no account has, and an account's name tried from outside its allowed IPs (those never
  make the owner wait). So a wait after 100 failures comes alike for every name (§3, §6).
Rows of expired windows and quiet names are purged as logins go by.
"""

import math
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from adminpanel import audit
from adminpanel.accounts.models import Account, NameFailures, PasswordAttempts, PasswordFailures

WINDOW_FAILURES_ALLOWED = 10
WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES_ALLOWED = 100
FIRST_WAIT_SECONDS = 60
MAX_WAIT_SECONDS = 3600
STREAK_QUIET = timedelta(days=1)  # a streak of failures with no failure for this long ends
ANY_USERNAME = ""  # the username of an address's row: every name shares it (see above)
PURGE_BATCH = 100


class TooManyAttempts(Exception):
    """A limit is reached: `scope` is "address" or "account"; wait `retry_after` seconds.
    `first`: the first refusal of this window or wait (only it is logged)."""

    def __init__(self, scope: str, seconds: float, *, first: bool = True):
        self.scope = scope
        self.first = first
        self.retry_after = max(1, math.ceil(seconds))
        minutes = max(1, math.ceil(seconds / 60))
        unit = "minute" if minutes == 1 else "minutes"
        self.message = f"Too many attempts. Try again in {minutes} {unit}."
        super().__init__(self.message)


def account_wait(failures: int) -> int:
    """Seconds to wait after this many consecutive failures of one account."""
    if failures < ACCOUNT_FAILURES_ALLOWED:
        return 0
    doublings = failures - ACCOUNT_FAILURES_ALLOWED
    return min(FIRST_WAIT_SECONDS * 2 ** min(doublings, 16), MAX_WAIT_SECONDS)


def _locked_row(new: PasswordAttempts | NameFailures, **key):
    """The row with this key, inserted as `new` if missing and locked until the transaction
    ends.

    INSERT … ON CONFLICT DO NOTHING, then SELECT … FOR UPDATE: two first attempts at once
    never race to insert. A purge may delete an expired row between the two statements; the
    second round inserts a fresh one, which no purge touches (it has just begun).
    """
    model = type(new)
    for _ in range(2):
        model.objects.bulk_create([new], ignore_conflicts=True)
        row = model.objects.select_for_update().filter(**key).first()
        if row is not None:
            return row
    raise RuntimeError(f"the {model.__name__} row vanished twice")  # pragma: no cover


def _locked_attempts(ip: str, now: datetime) -> PasswordAttempts:
    """The address's row (every name shares it), created if missing, locked."""
    new = PasswordAttempts(username=ANY_USERNAME, ip=ip, window_started=now)
    return _locked_row(new, username=ANY_USERNAME, ip=ip)


def take_slots(ip: str, account: Account | None, now: datetime, *, name: str = "") -> None:
    """Reserve one attempt in the address's window and, when `account` is given, one of the
    account's, else one of the `name`'s (see above); or TooManyAttempts, which reserves
    neither. One transaction, one commit.

    The attempt counts as a failure until release_slots() says it was not: the account's
    wait it would earn starts now. An attempt made while waiting changes nothing. From an
    address the account signed in from in the last 90 days only the address's slot is
    taken: the account's count neither stops it nor grows by it.
    """
    known = account is not None and audit.signed_in_from(account, ip, now=now)
    with transaction.atomic():
        refusal = _take_address_slot(ip, now)
        if refusal is None and account is not None and not known:
            refusal = _take_account_slot(account, now)
        elif refusal is None and account is None and name:
            refusal = _take_name_slot(name, now)
        if refusal is not None and refusal.scope != "address":  # nor the address's slot
            _give_back_address_slot(ip)
    if refusal is not None:  # raised after the commit: a first refusal's mark is kept
        raise refusal


def _take_address_slot(ip: str, now: datetime) -> TooManyAttempts | None:
    attempts = _locked_attempts(ip, now)
    if attempts.window_started + WINDOW <= now:
        attempts.failures = 0
        attempts.window_started = now
    if attempts.failures >= WINDOW_FAILURES_ALLOWED:
        ends = attempts.window_started + WINDOW
        # One more than allowed marks "refused once already" (a spent window either way).
        first = attempts.failures == WINDOW_FAILURES_ALLOWED
        if first:
            attempts.failures += 1
            attempts.save(update_fields=["failures", "window_started"])
        return TooManyAttempts("address", (ends - now).total_seconds(), first=first)
    attempts.failures += 1
    attempts.save(update_fields=["failures", "window_started"])
    return None


def _take_account_slot(account: Account, now: datetime) -> TooManyAttempts | None:
    """Under the lock of the account's row (the house's one lock for security state)."""
    Account.objects.locked(account)
    state, _ = PasswordFailures.objects.get_or_create(account_id=account.pk)
    return _take_streak_slot(state, now)


def _take_name_slot(name: str, now: datetime) -> TooManyAttempts | None:
    return _take_streak_slot(_locked_row(NameFailures(name=name, last_failure=now), name=name), now)


def _take_streak_slot(state: PasswordFailures | NameFailures, now: datetime):
    """One more failure in a streak (locked by the caller), or the wait it is in. Both kinds
    of streak answer alike: the scope "account" either way."""
    if state.retry_at is not None and state.retry_at > now:
        first = state.refusal_logged_for != state.retry_at
        if first:
            state.refusal_logged_for = state.retry_at
            state.save(update_fields=["refusal_logged_for"])
        return TooManyAttempts("account", (state.retry_at - now).total_seconds(), first=first)
    if state.last_failure is not None and state.last_failure <= now - STREAK_QUIET:
        state.failures = 0
    state.failures += 1
    state.last_failure = now
    wait = account_wait(state.failures)
    state.retry_at = now + timedelta(seconds=wait) if wait else None
    state.save(update_fields=["failures", "retry_at", "last_failure"])
    return None


def _give_back_address_slot(ip: str) -> None:
    PasswordAttempts.objects.filter(username=ANY_USERNAME, ip=ip, failures__gt=0).update(
        failures=F("failures") - 1
    )


def release_slots(account: Account, ip: str) -> None:
    """A right password: its own slot in the address's window is given back (the failures
    before it stay: they may have been guesses at other names) and the account's streak
    starts again."""
    with transaction.atomic():  # one commit for both
        _give_back_address_slot(ip)
        PasswordFailures.objects.filter(account_id=account.pk).update(failures=0, retry_at=None)


def release_name_slots(name: str, ip: str) -> None:
    """A right password for a person whose streak is its name's (a mailbox owner, whose
    address is the name): as release_slots."""
    with transaction.atomic():
        _give_back_address_slot(ip)
        NameFailures.objects.filter(name=name).update(failures=0, retry_at=None)


def check_again(account: Account, password: str, *, ip: str, now: datetime) -> bool:
    """A signed-in account's password asked again (Confirm access, Security → Password),
    counted in the same limits as a login so that a session cannot guess through it:
    TooManyAttempts before any hash once a limit is spent, else whether it was right."""
    take_slots(ip, account, now)
    if not account.check_password(password):
        return False
    release_slots(account, ip)
    return True


def purge_expired(now: datetime) -> int:
    """Delete rows whose window has ended (they hold nothing a new row would not).

    Rows another transaction holds locked are skipped; a login that finds its row gone
    takes a new one (_locked_attempts).
    """
    return _purge(PasswordAttempts.objects.filter(window_started__lte=now - WINDOW)) + _purge(
        NameFailures.objects.filter(last_failure__lte=now - STREAK_QUIET)
    )


def _purge(expired) -> int:
    if not expired.exists():  # the usual case costs one indexed read and no write lock
        return 0
    with transaction.atomic():
        ids = list(
            expired.select_for_update(skip_locked=True).values_list("pk", flat=True)[:PURGE_BATCH]
        )
        if not ids:
            return 0
        return expired.filter(pk__in=ids).delete()[0]
