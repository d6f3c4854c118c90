"""Helpers of the cluster tests: throwaway databases, browsers on instances, codes of an account."""

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pyotp

from testbed.cluster import Browser

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
