"""Run a benchmark of the panel's own code on SQLite and PostgreSQL: each database in a process
of its own, in a throwaway data dir (and a throwaway, durable PostgreSQL cluster)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable

import django

from testbed.postgres import ThrowawayCluster

DATABASES = ("sqlite", "postgresql")


def prepare_environment(database: str, prefix: str) -> ThrowawayCluster | None:
    """A throwaway data dir (and PostgreSQL cluster) before Django is set up."""
    os.environ["ADMINPANEL_DATA_DIR"] = tempfile.mkdtemp(prefix=prefix)
    os.environ["DJANGO_SETTINGS_MODULE"] = "adminpanel.settings"
    os.environ.pop("ADMINPANEL_DATABASE_URL", None)
    if database != "postgresql":
        return None
    cluster = ThrowawayCluster(durable=True).start()
    os.environ["ADMINPANEL_DATABASE_URL"] = cluster.url
    return cluster


def on_each_database(module: str, database: str, run: Callable[[], None]) -> int:
    """`both`: this module again for each database (the same arguments); one database: run()
    after django.setup() in a throwaway environment, removed afterwards."""
    if database == "both":
        rest = _without_database(sys.argv[1:])
        for name in DATABASES:
            argv = [sys.executable, "-m", module, "--database", name, *rest]
            if subprocess.call(argv):  # noqa: S603 - our own module
                return 1
        return 0
    cluster = prepare_environment(database, prefix=f"adminpanel-{module.rpartition('.')[2]}-")
    try:
        django.setup()
        run()
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(os.environ["ADMINPANEL_DATA_DIR"], ignore_errors=True)
    return 0


def _without_database(argv: list[str]) -> list[str]:
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--database":
            skip = True
        elif not arg.startswith("--database="):
            kept.append(arg)
    return kept
