"""What a change to an account ends (SPEC §2, §6, §12, §17): the one table that says which
changes end the account's web sessions, its API tokens, the API keys that act as it, and the
reason each is logged with. Called in the transaction of the change, so nothing outlives it."""

from dataclasses import dataclass

from adminpanel import clock
from adminpanel.accounts import api_keys, tokens, web_sessions
from adminpanel.accounts.models import Account


@dataclass(frozen=True)
class Ending:
    field: str  # the Account field whose change ends something
    ends_when: object  # the new value that ends it; None: any change
    reason: str
    sessions: bool
    tokens: bool
    keys: bool = False  # the API keys acting as the account (accounts.api_keys)


# First match wins, for sessions, tokens and keys each. A key acts only as an API-only
# Sub-Admin: given the Admin Panel, its person could add a second factor the key steps around.
ENDINGS = (
    Ending("is_active", False, "deactivated", sessions=True, tokens=True, keys=True),
    Ending("web_access", False, "web_access_removed", sessions=True, tokens=False),
    Ending("password", None, "password_changed", sessions=True, tokens=True),
    Ending("api_access", False, "api_access_removed", sessions=False, tokens=True, keys=True),
    Ending("web_access", True, "web_access_given", sessions=False, tokens=False, keys=True),
)


def _first(account: Account, changed: list[str], kind: str) -> Ending | None:
    for ending in ENDINGS:
        if ending.field not in changed or not getattr(ending, kind):
            continue
        if ending.ends_when is None or getattr(account, ending.field) == ending.ends_when:
            return ending
    return None


def end_after_change(account: Account, changed: list[str], *, actor=None, request=None) -> None:
    """End what the changed fields (already saved) end: web sessions, API tokens, API keys."""
    ending = _first(account, changed, "sessions")
    if ending is not None:
        web_sessions.end_all_sessions(account, reason=ending.reason, actor=actor, request=request)
    ending = _first(account, changed, "tokens")
    if ending is not None:
        tokens.revoke_tokens(account, ending.reason, actor=actor, request=request)
    ending = _first(account, changed, "keys")
    if ending is not None:
        api_keys.revoke_keys(account, ending.reason, now=clock.now(), actor=actor, request=request)


def end_before_deletion(account: Account, *, actor=None, request=None) -> None:
    """A deleted account's sessions and keys end, logged, before its rows go (tokens go with
    the account's row: nothing else names them)."""
    web_sessions.end_all_sessions(account, reason="deleted", actor=actor, request=request)
    api_keys.revoke_keys(account, "deleted", now=clock.now(), actor=actor, request=request)
