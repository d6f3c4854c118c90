"""A real `adminpanel serve` (SQLite in its own data dir) for the operations tests (SPEC §13)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.cluster import Instance, run_django_snippet, shared_environment
from testbed.postgres import free_port


class Panel(Instance):
    """An instance that also runs Django snippets in its environment (as a Fleet does)."""

    def django(self, code: str) -> str:
        return run_django_snippet(code, {**self.env, "ADMINPANEL_DATA_DIR": str(self.data_dir)})

    def django_json(self, code: str):
        return json.loads(self.django(code).strip().splitlines()[-1])


def start_panel(root: Path, *, workers: int = 2, options: list[str] | None = None, **env) -> Panel:
    data_dir = root / f"panel-{free_port()}"
    data_dir.mkdir()
    panel = Panel(shared_environment("", **env), free_port(), workers, data_dir)
    panel.serve_options = options or []
    panel.start()
    try:
        panel.wait_ready()
    except BaseException:
        panel.stop()
        raise
    return panel


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
