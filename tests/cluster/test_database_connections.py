"""README "Scaling out" sizes PostgreSQL by one connection per worker and one for each
instance's background process (mail logins; no notices here): a worker keeps one, however
many HTTP connections it serves (and PostgreSQL refuses clients beyond its limit)."""

import requests

from tests.cluster.instances import WORKERS


def panel_backends(pg) -> int:
    """The instances' connections to their database (not this test's own)."""
    return pg.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    ).fetchone()[0]


def test_each_worker_keeps_one_database_connection_however_many_clients_it_serves(fleet, pg, a, b):
    for url in (a, b):
        for _ in range(30):  # each on an HTTP connection of its own
            assert requests.get(f"{url}/readyz", timeout=30).status_code == 200
    assert panel_backends(pg) <= 2 * (WORKERS + 1)
