"""Test set-up shared by every kind of test.

The environment is prepared here, at import, before pytest-django configures Django in its
pytest_configure hook: a throwaway data dir, and optionally a throwaway PostgreSQL cluster.

In-process tests hash with the same Argon2id code at a small cost (1 MiB, 1 pass): hundreds
of accounts and recovery codes would otherwise take minutes. The servers that the e2e and
cluster tests start run with the production cost (19 MiB, 2 passes).
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

from tests import factors  # noqa: E402 (imports the product's models: after django.setup())
from tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

settings.ARGON2_MEMORY_KIB = 1024
settings.ARGON2_TIME_COST = 1


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
