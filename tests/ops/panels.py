"""A real `adminpanel serve` (SQLite in its own data dir) for the operations tests (SPEC §13)."""

from __future__ import annotations

import json
from pathlib import Path

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
