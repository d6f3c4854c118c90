"""SPEC §13: `adminpanel backup FILE` and `adminpanel restore FILE [--force]`, on SQLite and
PostgreSQL: a 2FA account logs in with its code on a fresh data dir after a restore."""

from __future__ import annotations

import os
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pyotp
import pytest

from testbed.cluster import Browser, adminpanel_command, make_accounts
from testbed.postgres import ThrowawayCluster, find_bin_dir, free_port
from tests.ops.panels import Panel

PASSWORD = "Restored-Pebble-Orbit-7"


def environment(data_dir: Path, database_url: str) -> dict[str, str]:
    """A deployment whose keys live in its data dir (none in the environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMINPANEL_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["ADMINPANEL_DATA_DIR"] = str(data_dir)
    env["ADMINPANEL_ADMIN_PASSWORD"] = "backup-admin-password-1"
    # A cheap Argon2id for the test's accounts (each hash records its own cost).
    env.update(ADMINPANEL_ARGON2_MEMORY_KIB="1024", ADMINPANEL_ARGON2_TIME_COST="1")
    if database_url:
        env["ADMINPANEL_DATABASE_URL"] = database_url
    return env


def adminpanel(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*adminpanel_command(), *args], env=env, capture_output=True, text=True, timeout=300
    )


class Deployment:
    """A data dir and a database, driven through the `adminpanel` command."""

    def __init__(self, data_dir: Path, database_url: str):
        self.data_dir, self.database_url = data_dir, database_url
        self.env = environment(data_dir, database_url)
        self.panel = Panel(self.env, 0, 1, data_dir)  # for its Django snippets only

    def django_json(self, code: str):
        return self.panel.django_json(code)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return adminpanel(self.env, *args)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def databases(request, tmp_path_factory):
    """(source URL, target URL): "" is SQLite in each data dir; two databases of one cluster."""
    if request.param == "sqlite":
        yield "", ""
        return
    if find_bin_dir() is None:
        pytest.skip("no PostgreSQL server binaries (make system-packages installs them)")
    with ThrowawayCluster() as cluster:
        cluster.createdb("restored")
        yield cluster.url, cluster.url_for("restored")


@pytest.fixture(scope="module")
def round_trip(databases, tmp_path_factory):
    """A 2FA account made on one deployment, backed up, restored onto a fresh data dir."""
    root = tmp_path_factory.mktemp("backup")
    source = Deployment(root / "source", databases[0])
    assert source.run("manage", "migrate", "-v", "0").returncode == 0
    (account,) = make_accounts(source, ["restored-ana"], password=PASSWORD)
    archive = root / "panel-backup.tar.gz"
    made = source.run("backup", str(archive))
    assert made.returncode == 0, made.stderr
    target = Deployment(root / "fresh", databases[1])
    restored = target.run("restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    return source, target, archive, account, made.stdout


def test_the_archive_is_private_and_holds_the_database_and_the_keys(round_trip):
    _, _, archive, _, said = round_trip
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "keys/secret_key", "keys/encryption_keys"} <= names
    assert names & {"database.sqlite3", "database.pgdump"}
    assert "keys: secret_key, encryption_keys" in said


def test_the_keys_come_back_into_the_fresh_data_dir(round_trip):
    source, target, *_ = round_trip
    for name in ("secret_key", "encryption_keys"):
        restored = target.data_dir / name
        assert restored.read_bytes() == (source.data_dir / name).read_bytes()
        assert stat.S_IMODE(restored.stat().st_mode) == 0o600


def test_a_2fa_account_logs_in_with_its_code_after_a_restore(round_trip):
    _, target, _, account, _ = round_trip
    panel = Panel(target.env, free_port(), 1, target.data_dir)
    panel.start()
    try:
        panel.wait_ready()
        tab = Browser(panel.url)
        assert tab.password_step(account["username"], PASSWORD).status_code == 302
        # Setting 2FA up spent the current step's code: the next step's is still good.
        code = pyotp.TOTP(account["key"]).at(time.time() + 30)
        answer = tab.code_step(code)
        assert answer.status_code == 302 and answer.headers["Location"] == "/"
        assert tab.logged_in()
    finally:
        panel.stop()


def test_restore_refuses_to_overwrite_a_database_that_holds_data(round_trip):
    _, target, archive, _, _ = round_trip
    refused = target.run("restore", str(archive))
    assert refused.returncode == 1
    assert "The database already holds data: nothing was changed." in refused.stderr
    assert "Traceback" not in refused.stderr


def test_restore_with_force_replaces_a_database_that_holds_data(round_trip):
    _, target, archive, account, _ = round_trip
    # The Admin of the restored deployment changes something, then the backup comes back.
    target.django_json(
        "from adminpanel.accounts.models import Account\n"
        f"Account.objects.filter(username={account['username']!r}).delete()\nprint('[]')"
    )
    forced = target.run("restore", "--force", str(archive))
    assert forced.returncode == 0, forced.stderr
    names = target.django_json(
        "import json\nfrom adminpanel.accounts.models import Account\n"
        "print(json.dumps(list(Account.objects.values_list('username', flat=True))))"
    )
    assert account["username"] in names


def test_restore_refuses_a_file_that_is_not_a_backup(round_trip, tmp_path):
    _, target, *_ = round_trip
    junk = tmp_path / "notes.tar.gz"
    junk.write_text("not an archive")
    refused = target.run("restore", "--force", str(junk))
    assert refused.returncode == 1
    assert f"{junk} is not a backup of this panel" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_backup_to_a_directory_that_does_not_exist_says_so(round_trip, tmp_path):
    source, *_ = round_trip
    refused = source.run("backup", str(tmp_path / "missing" / "panel.tar.gz"))
    assert refused.returncode == 1
    assert "Cannot write" in refused.stderr and "Traceback" not in refused.stderr


def test_backup_never_writes_through_a_name_planted_beside_the_archive(round_trip, tmp_path):
    source, *_ = round_trip
    stolen = tmp_path / "stolen"
    stolen.write_bytes(b"")
    (tmp_path / ".panel.tar.gz.partial").symlink_to(stolen)  # the old, predictable name
    made = source.run("backup", str(tmp_path / "panel.tar.gz"))
    assert made.returncode == 0, made.stderr
    assert stolen.read_bytes() == b""
    assert tarfile.is_tarfile(tmp_path / "panel.tar.gz")
    assert [p.name for p in tmp_path.glob(".panel.tar.gz.*")] == [".panel.tar.gz.partial"]


@pytest.mark.parametrize("mode", [0o777, 0o775])
def test_backup_refuses_a_directory_other_users_may_write_to(round_trip, tmp_path, mode):
    source, *_ = round_trip
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    refused = source.run("backup", str(shared / "panel.tar.gz"))
    assert refused.returncode == 1
    assert "may be written by other users" in refused.stderr and "Traceback" not in refused.stderr
    assert list(shared.iterdir()) == []


def test_backup_into_a_sticky_shared_directory_like_tmp_is_allowed(round_trip, tmp_path):
    source, *_ = round_trip
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    made = source.run("backup", str(sticky / "panel.tar.gz"))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE((sticky / "panel.tar.gz").stat().st_mode) == 0o600
