"""SPEC §4–§5: one code, one recovery code, one failure count — whatever arrives at once.

Each thread is its own browser (its own Client and session) and its own database
connection; a Barrier releases them together.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client

from adminpanel.errors import Refused
from adminpanel.twofactor import interface
from adminpanel.twofactor import services as twofactor
from tests.integration.panel import failures, is_logged_in, log_in, verify

pytestmark = pytest.mark.django_db(transaction=True)


def all_at_once(jobs: list[Callable[[], object]]) -> list[object]:
    """Run every job in its own thread, released together; their results, or what they raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # handed to the test, which asserts on it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def pending_clients(count: int) -> list[Client]:
    clients = [Client() for _ in range(count)]
    for client in clients:
        assert log_in(client).url == "/login"
    return clients


def test_of_20_simultaneous_logins_with_one_code_exactly_one_succeeds(alice_2fa):
    clients = pending_clients(20)
    code = alice_2fa.code()
    responses = all_at_once([lambda c=c: verify(c, code) for c in clients])
    assert not [r for r in responses if isinstance(r, Exception)]
    logged_in = [r for r in responses if r.status_code == 302 and r.url == "/"]
    assert len(logged_in) == 1
    assert sum(is_logged_in(c) for c in clients) == 1


def test_of_10_simultaneous_logins_with_one_recovery_code_exactly_one_succeeds(alice_2fa):
    clients = pending_clients(10)
    recovery = alice_2fa.recovery_codes[0]
    responses = all_at_once([lambda c=c: verify(c, recovery) for c in clients])
    assert not [r for r in responses if isinstance(r, Exception)]
    assert sum(r.status_code == 302 and r.url == "/" for r in responses) == 1
    assert interface.recovery_codes_left(alice_2fa.account) == 9


def test_simultaneous_wrong_codes_cannot_slip_past_the_wait(alice_2fa):
    now, wrong = alice_2fa.clock(), alice_2fa.wrong_code()
    results = all_at_once([lambda: twofactor.verify_code(alice_2fa.account, wrong, now=now)] * 12)
    assert all(isinstance(r, Refused) for r in results)
    assert failures(alice_2fa.account) == 5
    assert sum(r.reason == "throttled" for r in results) == 7


def test_simultaneous_disables_with_one_code_disable_once(alice_2fa):
    code = alice_2fa.code()
    now = alice_2fa.clock()
    results = all_at_once([lambda: twofactor.disable(alice_2fa.account, code, now=now)] * 8)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, Refused) for r in results if r is not None)
    assert not interface.is_enabled(alice_2fa.account)
