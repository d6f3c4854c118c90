"""The 2FA policy at the door (SPEC §12): the rule of accounts.policy asked together with the
account's 2FA state, for the web session (PolicyGateMiddleware, the menu) and the API login."""

from adminpanel.accounts.models import Account
from adminpanel.accounts.policy import REQUIRED, must_have_2fa
from adminpanel.errors import Refused
from adminpanel.twofactor import interface as twofactor


def gated(account: Account) -> bool:
    """Must this account's sessions stay on Security → 2FA? (A rule wants 2FA and it has none.)

    Asked of the account as it is now, not of the session's history: a session that passed
    2FA before 2FA was turned off is gated like any other.
    """
    return must_have_2fa(account) and not twofactor.is_enabled(account)


def api_refusal(account: Account) -> Refused | None:
    """The API login of an account that must have 2FA and has none is refused."""
    if must_have_2fa(account) and not twofactor.is_enabled(account):
        return Refused("two_factor_required", REQUIRED)
    return None
