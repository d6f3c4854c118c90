"""SPEC §5: of many simultaneous requests with the same valid code, exactly one succeeds,
whatever server instance they hit."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.cluster.instances import browsers, code

REPLAYED = "This code has already been used. Wait for the next code."
INVALID = "Invalid code."
THROTTLED = "Too many failed attempts. Try again in"


def half_logged_in(fleet, account: dict, n: int):
    """n browser tabs on alternating instances, each past the password step of one account."""
    tabs = browsers(fleet.urls, n)
    # A few at a time: each password step holds one of the 10 (username, IP) attempt slots
    # until its hash is checked, and all these tabs come from one IP.
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda tab: tab.password_step(account["username"], account["password"]), tabs)
        )
    assert [r.status_code for r in answers] == [302] * n
    assert {r.headers["Location"] for r in answers} == {"/login"}
    return tabs


def all_at_once(tabs, challenge: str):
    """Every tab presses Verify at the same moment (a barrier); the answers, in tab order."""
    barrier = threading.Barrier(len(tabs))

    def press(tab):
        barrier.wait()
        return tab.code_step(challenge)

    with ThreadPoolExecutor(len(tabs)) as pool:
        return list(pool.map(press, tabs))


@pytest.mark.parametrize("repetition", range(5))
def test_of_20_sessions_sending_the_same_code_at_once_exactly_one_logs_in(
    fleet, accounts, repetition
):
    [account] = accounts(1)
    tabs = half_logged_in(fleet, account, 20)
    answers = all_at_once(tabs, code(account))

    winners = [r for r in answers if r.status_code == 302]
    assert len(winners) == 1
    assert winners[0].headers["Location"] == "/"
    for r in answers:
        if r.status_code != 302:
            assert r.status_code in (200, 429)
            assert REPLAYED in r.text or THROTTLED in r.text
    assert sum(tab.logged_in() for tab in tabs) == 1
    # Both instances took part, and the winner's session is good on both.
    assert {tab.base_url for tab in tabs} == set(fleet.urls)
    winner = tabs[answers.index(winners[0])]
    assert all(winner.on(url).logged_in() for url in fleet.urls)


def test_of_10_sessions_sending_the_same_recovery_code_at_once_exactly_one_logs_in(
    fleet, accounts, pg
):
    [account] = accounts(1)
    tabs = half_logged_in(fleet, account, 10)
    answers = all_at_once(tabs, account["recovery_codes"][0])

    assert [r.status_code for r in answers].count(302) == 1
    for r in answers:
        if r.status_code != 302:
            assert r.status_code in (200, 429)
            assert INVALID in r.text or THROTTLED in r.text
    assert sum(tab.logged_in() for tab in tabs) == 1
    used = pg.execute(
        "SELECT count(*) FROM twofactor_recoverycode r JOIN accounts_account a "
        "ON a.person_id = r.person_id WHERE a.username = %s AND r.used_at IS NOT NULL",
        [account["username"]],
    ).fetchone()[0]
    logged = pg.execute(
        "SELECT count(*) FROM audit_event WHERE actor_name = %s AND event = %s",
        [account["username"], "2fa_recovery_code_used"],
    ).fetchone()[0]
    assert (used, logged) == (1, 1)
