"""Test set-up shared by every kind of test.

The environment is prepared here, at import, before pytest-django configures Django in its
pytest_configure hook: a throwaway data dir, and optionally a throwaway PostgreSQL cluster.

In-process tests hash with the same Argon2id code at a small cost (1 MiB, 1 pass): hundreds
of accounts and recovery codes would otherwise take minutes. Likewise they make each domain's
DKIM key with the same RSA code at 1024 bits (RFC 8301's floor) instead of 2048: a fast-lane run
makes about 900 keys, which at 2048 bits cost a fifth of its CPU. A test about the key's size
asks for the production size (the fixture production_dkim_keys), and
tests/unit/test_production_costs.py holds the production values. The servers that the e2e and
cluster tests start run with the production costs (19 MiB, 2 passes; 2048 bits).
"""

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta

import django
import pytest
from playwright.sync_api import Browser, sync_playwright

if "ADMINPANEL_DATA_DIR" not in os.environ:
    _data_dir = tempfile.mkdtemp(prefix="adminpanel-test-")
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)
    os.environ["ADMINPANEL_DATA_DIR"] = _data_dir
# pytest-xdist's workers (`make test-fast`) inherit the run's environment: each takes a data dir
# of its own inside the run's, so no two processes share a key file or a SQLite database.
if _worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["ADMINPANEL_DATA_DIR"] = os.path.join(os.environ["ADMINPANEL_DATA_DIR"], _worker)
    os.makedirs(os.environ["ADMINPANEL_DATA_DIR"], exist_ok=True)
# ADMINPANEL_TEST_DATABASE=postgresql: the same tests on a throwaway PostgreSQL cluster (one per
# pytest run, stopped and removed at exit), unless ADMINPANEL_DATABASE_URL names one already.
if os.environ.get("ADMINPANEL_TEST_DATABASE") == "postgresql" and not os.environ.get(
    "ADMINPANEL_DATABASE_URL"
):
    from testbed.postgres import ThrowawayCluster

    _postgres = ThrowawayCluster().start()
    atexit.register(_postgres.stop)
    os.environ["ADMINPANEL_DATABASE_URL"] = _postgres.url
os.environ.setdefault("ADMINPANEL_TOTP_ISSUER", "Admin Panel")
os.environ["DJANGO_SETTINGS_MODULE"] = "adminpanel.settings"
django.setup()

from django.conf import settings  # noqa: E402

from adminpanel import settings as production_settings  # noqa: E402 (the module, as deployed)
from tests import factors  # noqa: E402 (imports the product's models: after django.setup())
from tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

settings.ARGON2_MEMORY_KIB = 1024
settings.ARGON2_TIME_COST = 1
settings.DKIM_KEY_BITS = 1024


class MovableClock:
    """adminpanel.clock.now, frozen at a chosen instant and moved by the test."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)

    def set(self, when: datetime) -> None:
        self.current = when


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone

    from adminpanel import clock as clock_module

    movable = MovableClock(timezone.now())
    monkeypatch.setattr(clock_module, "now", movable)
    return movable


@pytest.fixture
def production_dkim_keys(settings) -> int:
    """DKIM keys made at the production size for this test (the run makes them at 1024 bits)."""
    settings.DKIM_KEY_BITS = production_settings.DKIM_KEY_BITS
    return settings.DKIM_KEY_BITS


@pytest.fixture
def enable_2fa(clock):
    """Turn 2FA on for an account through the real setup service (tests.factors.TwoFactor)."""
    return lambda account: factors.enable_2fa(account, clock)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for the whole run: Playwright's sync API allows one instance per thread,
    so the e2e tests and the reverse-proxy test share it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (make system-packages installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
