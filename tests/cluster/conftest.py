"""Two real `adminpanel serve` processes on one throwaway PostgreSQL database.

The cluster tests always run on PostgreSQL: with ADMINPANEL_TEST_DATABASE=postgresql they
use a fresh database in the run's throwaway cluster, otherwise they start a cluster of their
own. The instances get their own data dirs and share only what README "Scaling out" says
must be shared: the database, ADMINPANEL_SECRET_KEY and ADMINPANEL_ENCRYPTION_KEYS.
"""

import itertools
import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

from testbed.cluster import Fleet, make_accounts, start_instances
from testbed.postgres import ThrowawayCluster
from tests.cluster.instances import PASSWORD, WORKERS, new_database


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """An empty PostgreSQL database that only the cluster tests use."""
    url = os.environ.get("ADMINPANEL_DATABASE_URL", "")
    if url.startswith("postgres"):
        with new_database(url, "adminpanel_cluster") as database:
            yield database
        return
    with ThrowawayCluster() as cluster:
        yield cluster.url


@pytest.fixture(scope="session")
def fleet(database_url) -> Iterator[Fleet]:
    """Instances A and B, started together. Tests that kill one start it again."""
    with start_instances(2, database_url, workers=WORKERS) as started:
        yield started


@pytest.fixture
def a(fleet) -> str:
    return fleet.instances[0].url


@pytest.fixture
def b(fleet) -> str:
    return fleet.instances[1].url


_names = itertools.count()


@pytest.fixture
def accounts(fleet):
    """make(n, two_factor=True) -> n new accounts, each dict: username, password, key, codes."""

    def make(n: int = 1, *, two_factor: bool = True) -> list[dict]:
        run = secrets.token_hex(3)
        names = [f"user{next(_names)}-{run}" for _ in range(n)]
        return make_accounts(fleet, names, password=PASSWORD, two_factor=two_factor)

    return make


@pytest.fixture
def pg(database_url) -> Iterator[psycopg.Connection]:
    """A direct connection to the instances' database, to look at what they wrote."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn
