"""SPEC §13: slow or idle clients cannot stall the panel."""

from concurrent.futures import ThreadPoolExecutor

from benchmarks.slow_clients import SlowClients
from testbed.cluster import ADMIN_PASSWORD, Browser


def test_fifty_logins_complete_while_two_hundred_connections_trickle_their_headers(panel):
    with SlowClients("127.0.0.1", panel.port, n=200, interval=2.0) as slow:
        slow.wait_for_round()
        assert slow.open == 200  # all held open by the panel, none refused

        def log_in(_) -> bool:
            tab = Browser(panel.url)
            answer = tab.password_step("admin", ADMIN_PASSWORD)
            return answer.status_code == 302 and tab.logged_in()

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(log_in, range(50)))
    assert results == [True] * 50
