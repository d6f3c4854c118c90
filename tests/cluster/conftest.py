"""Two real `adminpanel serve` processes on one throwaway PostgreSQL database.

The cluster tests always run on PostgreSQL: with ADMINPANEL_TEST_DATABASE=postgresql they
use a fresh database in the run's throwaway cluster, otherwise they start a cluster of their
own. The instances get their own data dirs and share only what README "Scaling out" says
must be shared: the database, ADMINPANEL_SECRET_KEY and ADMINPANEL_ENCRYPTION_KEYS.
"""

import itertools
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pyotp
import pytest

from testbed.cluster import Browser, Fleet, make_accounts, start_instances
from testbed.postgres import ThrowawayCluster

PASSWORD = "cluster-password-horse-9"
WORKERS = 2  # per instance: 4 processes in all contend for each account's row


@contextmanager
def new_database(url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database on the server of `url`; dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def browsers(urls: list[str], n: int) -> list[Browser]:
    """n browser tabs, spread round-robin over the instances."""
    return [Browser(urls[i % len(urls)]) for i in range(n)]


def code(account: dict, steps: int = 1) -> str:
    """The code the account's authenticator shows `steps` steps from now.

    Confirming the setup spent the current step, so logins use the next one (accepted: it is
    within one step of the server's clock).
    """
    return pyotp.TOTP(account["key"]).at(time.time() + 30 * steps)


def wrong_code(account: dict) -> str:
    """A well-formed code that matches no step within 10 either side: plainly invalid."""
    totp = pyotp.TOTP(account["key"])
    near = {totp.at(time.time() + 30 * s) for s in range(-12, 13)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in near)
