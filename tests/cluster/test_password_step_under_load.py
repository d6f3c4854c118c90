"""The password step answers 302 or a refusal, never a 5xx, when many run at once on a busy
machine (SPEC §6's "never a 5xx" holds for the web login too)."""

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor

from tests.cluster.instances import browsers

ROUNDS = 16
BURN_SECONDS = 30  # at most: the burners stop with the last round
TABS_PER_ROUND = 8  # one account, one IP: under the 10 attempt slots per (username, IP)


def _burn(until: float) -> None:
    while time.monotonic() < until:
        pass


def test_concurrent_password_steps_under_cpu_load_never_answer_5xx(fleet, accounts):
    # Each round starts with no attempt row (the previous round's logins cleared it) and its
    # tabs race to create it while other logins of the same account finish.
    [account] = accounts(1, two_factor=False)
    burners = [
        multiprocessing.Process(target=_burn, args=(time.monotonic() + BURN_SECONDS,))
        for _ in range(2)
    ]
    for burner in burners:
        burner.start()
    statuses = []
    try:
        with ThreadPoolExecutor(TABS_PER_ROUND) as pool:
            for _ in range(ROUNDS):
                tabs = browsers(fleet.urls, TABS_PER_ROUND)
                for tab in tabs:
                    tab.get("/login")
                statuses += pool.map(
                    lambda tab: (
                        tab.post(
                            "/login",
                            {"username": account["username"], "password": account["password"]},
                        ).status_code
                    ),
                    tabs,
                )
    finally:
        for burner in burners:
            burner.terminate()
            burner.join()
    assert statuses == [302] * (ROUNDS * TABS_PER_ROUND)
