"""SPEC §5: after 5 consecutive failures a wait of 1 minute, doubling up to 1 hour."""

import pytest

from adminpanel.twofactor.state import throttled_message, wait_after


@pytest.mark.parametrize("failures", [0, 1, 2, 3, 4])
def test_fewer_than_5_failures_need_no_wait(failures):
    assert wait_after(failures) == 0


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(5, 60), (6, 120), (7, 240), (8, 480), (9, 960), (10, 1920)],
)
def test_the_wait_starts_at_1_minute_and_doubles(failures, seconds):
    assert wait_after(failures) == seconds


@pytest.mark.parametrize("failures", [11, 12, 50, 99, 100, 10_000])
def test_the_wait_is_capped_at_1_hour(failures):
    assert wait_after(failures) == 3600


def test_the_wait_never_shrinks_as_failures_grow():
    waits = [wait_after(n) for n in range(200)]
    assert waits == sorted(waits)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (60, "Try again in 1 minute."),
        (1, "Try again in 1 minute."),
        (61, "Try again in 2 minutes."),
        (120, "Try again in 2 minutes."),
        (3600, "Try again in 60 minutes."),
    ],
)
def test_the_message_says_how_many_minutes_to_wait(seconds, text):
    assert throttled_message(seconds) == f"Too many failed attempts. {text}"
