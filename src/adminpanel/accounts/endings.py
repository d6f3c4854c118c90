"""What a change to an account ends (SPEC §2, §6, §12): the one table that says which changes
end the account's web sessions, its API tokens, or both, and the reason each is logged with.
Called in the transaction of the change, so nothing outlives it."""

from dataclasses import dataclass

from adminpanel.accounts import tokens, web_sessions
from adminpanel.accounts.models import Account


@dataclass(frozen=True)
class Ending:
    field: str  # the Account field whose change ends something
    ends_when: object  # the new value that ends it; None: any change
    reason: str
    sessions: bool
    tokens: bool


# First match wins, for sessions and for tokens each.
ENDINGS = (
    Ending("is_active", False, "deactivated", sessions=True, tokens=True),
    Ending("web_access", False, "web_access_removed", sessions=True, tokens=False),
    Ending("password", None, "password_changed", sessions=True, tokens=True),
    Ending("api_access", False, "api_access_removed", sessions=False, tokens=True),
)


def _first(account: Account, changed: list[str], kind: str) -> Ending | None:
    for ending in ENDINGS:
        if ending.field not in changed or not getattr(ending, kind):
            continue
        if ending.ends_when is None or getattr(account, ending.field) == ending.ends_when:
            return ending
    return None


def end_after_change(account: Account, changed: list[str], *, actor=None, request=None) -> None:
    """End what the changed fields (already saved) end: every web session, every API token."""
    ending = _first(account, changed, "sessions")
    if ending is not None:
        web_sessions.end_all_sessions(account, reason=ending.reason, actor=actor, request=request)
    ending = _first(account, changed, "tokens")
    if ending is not None:
        tokens.revoke_tokens(account, ending.reason, actor=actor, request=request)
