"""SPEC §5: what a person may type in the Challenge input, and what is refused unchecked."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adminpanel.errors import Refused
from adminpanel.twofactor.recovery import RECOVERY_ALPHABET
from adminpanel.twofactor.services import normalize

MALFORMED = "Enter the 6-digit code from your authenticator app."


@pytest.mark.parametrize("typed", ["123456", "123 456", "123-456", " 123456 ", "12 34 56"])
def test_six_digits_with_spaces_or_a_dash_are_a_code(typed):
    assert normalize(typed) == ("totp", "123456")


def test_leading_zeros_are_kept():
    assert normalize("000 042") == ("totp", "000042")


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("12345", id="five digits"),
        pytest.param("1234567", id="seven digits"),
        pytest.param("12345a", id="a letter"),
        pytest.param("abcdef", id="letters"),
        pytest.param("١٢٣٤٥٦", id="arabic-indic digits"),
        pytest.param("۱۲۳۴۵۶", id="persian digits"),
        pytest.param("１２３４５６", id="fullwidth digits"),
        pytest.param("१२३४५६", id="devanagari digits"),
        pytest.param("123\x00456", id="nul"),
        pytest.param("123456\x00", id="trailing nul"),
        pytest.param("123_456", id="underscore"),
        pytest.param("+123456", id="sign"),
        pytest.param("1" * 101, id="too long"),
        pytest.param("1" * 1_000_000, id="a megabyte"),
    ],
)
def test_anything_else_is_malformed(typed):
    with pytest.raises(Refused) as refused:
        normalize(typed)
    assert refused.value.reason == "malformed"
    assert refused.value.message.startswith(MALFORMED[:-1])


@pytest.mark.parametrize("value", [None, 123456, b"123456", ["123456"]])
def test_a_value_that_is_not_text_is_malformed(value):
    with pytest.raises(Refused) as refused:
        normalize(value)
    assert refused.value.reason == "malformed"


def test_a_recovery_code_is_read_as_one_with_or_without_dashes():
    assert normalize("abcd-efgh-jkmn-pqrs") == ("recovery", "abcdefghjkmnpqrs")
    assert normalize("abcdefghjkmnpqrs") == ("recovery", "abcdefghjkmnpqrs")


def test_a_recovery_code_in_capitals_is_the_same_code():
    assert normalize("ABCD-EFGH-JKMN-PQRS") == ("recovery", "abcdefghjkmnpqrs")


def test_only_a_six_digit_code_is_accepted_where_recovery_codes_are_not():
    assert normalize("123-456", allow_recovery=False) == ("totp", "123456")
    with pytest.raises(Refused) as refused:
        normalize("abcd-efgh-jkmn-pqrs", allow_recovery=False)
    assert refused.value.message == MALFORMED


@given(st.text())
def test_any_text_is_a_code_a_recovery_code_or_malformed(typed):
    for allow_recovery in (True, False):
        try:
            kind, value = normalize(typed, allow_recovery=allow_recovery)
        except Refused as refused:
            assert refused.reason == "malformed"
            continue
        if kind == "totp":
            assert len(value) == 6 and all(c in "0123456789" for c in value)
        else:
            assert kind == "recovery" and allow_recovery
            assert len(value) == 16 and all(c in RECOVERY_ALPHABET for c in value)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30), st.text("0123456789 -"))
def test_any_mix_of_text_never_raises_anything_but_code_rejected(prefix, digits):
    try:
        normalize(prefix + digits)
    except Refused:
        pass
