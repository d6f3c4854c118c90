"""RFC 6238 Appendix B (SHA-1) through our own verification path.

Our codes are 6 digits: the last 6 of the RFC's 8-digit values. The key is the ASCII string
"12345678901234567890", base32-encoded as an authenticator app would receive it.
"""

import base64
from datetime import UTC, datetime

import pyotp
import pytest

from adminpanel.accounts.models import Account
from adminpanel.errors import Refused
from adminpanel.twofactor import interface, services
from adminpanel.twofactor.services import verify_code
from adminpanel.twofactor.totp import match_step

RFC_KEY = base64.b32encode(b"12345678901234567890").decode()

VECTORS = [  # (Unix time, the RFC's 8-digit SHA-1 value)
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_the_key_is_the_rfc_secret_in_base32():
    assert RFC_KEY == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@pytest.mark.parametrize(("seconds", "value"), VECTORS, ids=[str(s) for s, _ in VECTORS])
def test_match_step_accepts_the_rfc_vector_at_its_time(seconds, value):
    assert match_step(RFC_KEY, value[-6:], at(seconds), None) == seconds // 30


@pytest.mark.parametrize(("seconds", "value"), VECTORS, ids=[str(s) for s, _ in VECTORS])
def test_match_step_refuses_a_vector_with_one_digit_changed(seconds, value):
    code = value[-6:]
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(Refused) as refused:
        match_step(RFC_KEY, wrong, at(seconds), None)
    assert refused.value.reason in ("invalid", "clock_off")


def test_a_wrong_code_at_the_first_vectors_time_is_invalid_not_an_error():
    # 59 s after the epoch the drift window reaches before step 0.
    with pytest.raises(Refused) as refused:
        match_step(RFC_KEY, "000000", at(59), None)
    assert refused.value.reason == "invalid"


@pytest.fixture
def rfc_account(db, monkeypatch) -> Account:
    """An account whose next 2FA setup gets the RFC's key."""
    monkeypatch.setattr(pyotp, "random_base32", lambda length=32: RFC_KEY)
    return Account.objects.create_user("rfc", "correct-horse-battery-staple")


def enable(account: Account, code: str, now: datetime) -> list[str]:
    setup = services.start_setup(account, now=now)
    assert services.setup_key(setup) == RFC_KEY
    return services.confirm_setup(account, setup.pk, code, now=now)


@pytest.mark.parametrize(("seconds", "value"), VECTORS, ids=[str(s) for s, _ in VECTORS])
def test_confirming_a_setup_accepts_the_rfc_vector_at_its_time(rfc_account, seconds, value):
    assert len(enable(rfc_account, value[-6:], at(seconds))) == 10
    assert interface.is_enabled(rfc_account)


def test_verify_code_accepts_each_vector_with_the_clock_at_its_time(rfc_account, clock):
    enable(rfc_account, pyotp.TOTP(RFC_KEY).at(at(29)), at(29))
    for seconds, value in VECTORS:
        clock.set(at(seconds))
        assert verify_code(rfc_account, value[-6:], now=clock()).kind == "totp"
