"""Test set-up shared by every kind of test.

The environment is prepared here, at import, before pytest-django configures Django in its
pytest_configure hook: a throwaway data dir, and fast-but-real Argon2id parameters are NOT
changed (tests hash exactly as production does).
"""

import os
import tempfile
from datetime import datetime, timedelta

import django
import pytest

os.environ.setdefault("ADMINPANEL_DATA_DIR", tempfile.mkdtemp(prefix="adminpanel-test-"))
os.environ.setdefault("ADMINPANEL_TOTP_ISSUER", "Admin Panel")
os.environ["DJANGO_SETTINGS_MODULE"] = "adminpanel.settings"
django.setup()


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
