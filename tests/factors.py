"""Second factors for tests of every kind: 2FA turned on through the product's own setup
service, and the codes a person's authenticator would show at the test's time."""

from dataclasses import dataclass
from datetime import timedelta

import pyotp

from adminpanel.accounts.models import Account
from adminpanel.twofactor import services as twofactor


def wrong_code_for(key: str, when) -> str:
    """A well-formed code that matches no step within 10 steps of `when` (not even by chance)."""
    near = {pyotp.TOTP(key).at(when + timedelta(seconds=30 * steps)) for steps in range(-10, 11)}
    return next(code for code in ("000000", "111111", "222222") if code not in near)


@dataclass
class TwoFactor:
    """An account with 2FA enabled: its key, its recovery codes and the test's clock."""

    account: Account
    key: str
    recovery_codes: list[str]
    clock: object

    def code(self, steps: int = 0) -> str:
        """The code the authenticator shows now, or `steps` steps away."""
        return pyotp.TOTP(self.key).at(self.clock() + timedelta(seconds=30 * steps))

    def wrong_code(self) -> str:
        return wrong_code_for(self.key, self.clock())

    def next_code(self) -> str:
        """Wait for the next 30-second step and read the new code."""
        self.clock.advance(seconds=30)
        return self.code()


def enable_2fa(account: Account, clock) -> TwoFactor:
    """Enable 2FA through the setup service; the step used to confirm is then behind us."""
    setup = twofactor.start_setup(account, now=clock())
    key = twofactor.setup_key(setup)
    codes = twofactor.confirm_setup(account, setup.pk, pyotp.TOTP(key).at(clock()), now=clock())
    clock.advance(seconds=30)
    return TwoFactor(account, key, codes, clock)
