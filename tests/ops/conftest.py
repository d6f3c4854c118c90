"""A real `adminpanel serve` (SQLite in its own data dir) for the operations tests (SPEC §13)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.panels import Panel, start_panel


@pytest.fixture(scope="module")
def panel_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="adminpanel-ops-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def panel(panel_root: Path) -> Iterator[Panel]:
    """One panel, two workers, JSON logs, its proxy named, 198.51.100.0/24 allowed to /metrics."""
    running = start_panel(
        panel_root,
        ADMINPANEL_LOG_FORMAT="json",
        ADMINPANEL_TRUSTED_PROXIES="127.0.0.1",
        ADMINPANEL_METRICS_ALLOWED_IPS="198.51.100.0/24",
    )
    yield running
    running.stop()
