"""TOTP arithmetic (RFC 6238 through pyotp): new keys, and which time step a code belongs to.

Pure functions: no database, no lock. The locked checks are in twofactor.services.
"""

from datetime import datetime

import pyotp
from pyotp.utils import strings_equal

from adminpanel import clock
from adminpanel.errors import Refused

STEP_SECONDS = 30
ACCEPTED_STEPS = 1  # RFC 6238's allowance for delay: one step either side
DRIFT_STEPS = 10  # codes this far away are recognised as a clock that is off
KEY_LENGTH = 32  # base32 characters: 160 bits

INVALID = "Invalid code."
REPLAYED = "This code has already been used. Wait for the next code."


def new_key() -> str:
    """A fresh random base32 key of 160 bits."""
    return pyotp.random_base32(length=KEY_LENGTH)


def _step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def match_step(key: str, code: str, now: datetime, last_step: int | None) -> int:
    """The time step whose code this is, if it may be accepted now; else Refused."""
    totp = pyotp.TOTP(key)  # SHA-1, 6 digits, 30-second step
    current = _step_of(now)
    for offset in sorted(range(-DRIFT_STEPS, DRIFT_STEPS + 1), key=abs):
        step = current + offset
        if step < 0:  # no step before the epoch (pyotp raises for a negative counter)
            continue
        if not strings_equal(totp.generate_otp(step), code):
            continue
        if abs(offset) > ACCEPTED_STEPS:
            raise Refused(
                "clock_off",
                "Your device's clock seems to be off by about "
                f"{clock.minutes(abs(offset) * STEP_SECONDS)}. "
                "Set it to update automatically, then try again.",
            )
        if last_step is not None and step <= last_step:
            raise Refused("replayed", REPLAYED)
        return step
    raise Refused("invalid", INVALID)
