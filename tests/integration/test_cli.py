"""SPEC §9: what `adminpanel serve` does before it hands over to gunicorn, and its key files."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connections

from adminpanel import cli, keyfiles
from adminpanel.accounts.models import Account
from adminpanel.accounts.services import ensure_admin
from adminpanel.audit.models import Event

# --- the Admin, created on first start -------------------------------------------------------


@pytest.mark.django_db
def test_the_first_start_creates_the_admin_with_a_generated_password():
    admin, generated = ensure_admin("admin", None)
    assert admin.is_owner and admin.username == "admin"
    assert generated and len(generated) >= 16
    assert admin.check_password(generated)
    assert Event.objects.filter(event="admin_created", actor_name="admin").exists()


@pytest.mark.django_db
def test_a_later_start_keeps_the_admin_and_generates_no_password():
    first, _ = ensure_admin("admin", None)
    again, generated = ensure_admin("admin", None)
    assert generated is None
    assert again.pk == first.pk
    assert Account.objects.filter(is_owner=True).count() == 1


@pytest.mark.django_db
def test_a_later_start_with_another_username_creates_no_second_admin():
    first, _ = ensure_admin("admin", None)
    again, generated = ensure_admin("someone-else", "another-password-123")
    assert again.pk == first.pk and generated is None
    assert not Account.objects.filter(username="someone-else").exists()


@pytest.mark.django_db
def test_a_chosen_admin_password_is_used_and_not_returned():
    admin, generated = ensure_admin("boss", "chosen-password-123")
    assert generated is None
    assert admin.check_password("chosen-password-123")


@pytest.mark.django_db
def test_generated_passwords_differ_between_installations():
    _, first = ensure_admin("admin", None)
    Account.objects.all().delete()
    _, second = ensure_admin("admin", None)
    assert first != second


# --- `adminpanel serve`, up to the exec of gunicorn ------------------------------------------


@pytest.fixture
def serve(monkeypatch, capsys):
    """Run `adminpanel serve ARGS`; returns (printed text, the argv gunicorn would get)."""
    execs: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: execs.append(argv))
    monkeypatch.setattr(connections, "close_all", lambda: None)  # keep the test's connection
    monkeypatch.delenv("ADMINPANEL_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("ADMINPANEL_ADMIN_USERNAME", "chief")

    def run(*args: str) -> tuple[str, list[str]]:
        assert cli.main(["serve", *args]) == 0
        return capsys.readouterr().out, execs[-1]

    return run


@pytest.mark.django_db
def test_serve_prints_the_generated_admin_password_on_the_first_start_only(serve):
    first, _ = serve()
    password = first.split("Password: ")[1].split()[0]
    assert "Username: chief" in first
    assert Account.objects.get(username="chief").check_password(password)
    again, _ = serve()
    assert "Password" not in again


@pytest.mark.django_db
def test_serve_hands_over_to_gunicorn_with_host_port_and_workers(serve):
    _, argv = serve("--host", "192.0.2.1", "--port", "8123", "--workers", "3")
    assert argv[1:4] == ["-m", "gunicorn", "adminpanel.wsgi:application"]
    assert argv[argv.index("--bind") + 1] == "192.0.2.1:8123"
    assert argv[argv.index("--workers") + 1] == "3"


@pytest.mark.django_db
def test_serve_binds_an_ipv6_host_in_brackets(serve):
    _, argv = serve("--host", "::1", "--port", "8000")
    assert argv[argv.index("--bind") + 1] == "[::1]:8000"


@pytest.mark.django_db
def test_serve_defaults_to_localhost_port_8000(serve):
    _, argv = serve()
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8000"


# --- key files in the data dir -----------------------------------------------------------------


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def no_key_environment(monkeypatch):
    monkeypatch.delenv("ADMINPANEL_SECRET_KEY", raising=False)
    monkeypatch.delenv("ADMINPANEL_ENCRYPTION_KEYS", raising=False)


def test_the_secret_key_is_generated_once_with_mode_0600(tmp_path, no_key_environment):
    data_dir = tmp_path / "var"
    key = keyfiles.secret_key(data_dir)
    assert len(key) >= 50
    assert mode(data_dir / "secret_key") == 0o600
    assert keyfiles.secret_key(data_dir) == key


def test_the_encryption_key_is_generated_once_with_mode_0600(tmp_path, no_key_environment):
    keys = keyfiles.encryption_keys(tmp_path)
    assert len(keys) == 1
    Fernet(keys[0].encode())  # a valid Fernet key
    assert mode(tmp_path / "encryption_keys") == 0o600
    assert keyfiles.encryption_keys(tmp_path) == keys


def test_each_data_dir_gets_its_own_keys(tmp_path, no_key_environment):
    assert keyfiles.secret_key(tmp_path / "a") != keyfiles.secret_key(tmp_path / "b")
    assert keyfiles.encryption_keys(tmp_path / "a") != keyfiles.encryption_keys(tmp_path / "b")


def test_keys_from_the_environment_win_and_write_no_file(tmp_path, monkeypatch):
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("ADMINPANEL_SECRET_KEY", "s" * 60)
    monkeypatch.setenv("ADMINPANEL_ENCRYPTION_KEYS", f"{first}, {second}")
    assert keyfiles.secret_key(tmp_path) == "s" * 60
    assert keyfiles.encryption_keys(tmp_path) == [first, second]
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_is_mode_0600_whatever_the_umask(tmp_path, no_key_environment):
    old = os.umask(0)
    try:
        keyfiles.secret_key(tmp_path)
    finally:
        os.umask(old)
    assert mode(tmp_path / "secret_key") == 0o600


def test_a_new_data_dir_is_private_to_its_owner(tmp_path):
    from adminpanel import keyfiles

    data_dir = tmp_path / "fresh"
    keyfiles.secret_key(data_dir)
    assert (data_dir.stat().st_mode & 0o777) == 0o700


# --- the data dir ------------------------------------------------------------------------


def test_the_sqlite_database_file_is_private_to_its_owner(tmp_path):
    """The database holds password hashes and encrypted keys: mode 0600, like the key files."""
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMINPANEL_DATABASE")}
    env.update(ADMINPANEL_DATA_DIR=str(data_dir), ADMINPANEL_TEST_DATABASE="")
    adminpanel = Path(sys.executable).with_name("adminpanel")
    subprocess.run([adminpanel, "manage", "migrate", "-v0"], env=env, check=True, timeout=120)
    files = [p for p in data_dir.iterdir() if p.name.startswith("adminpanel.sqlite3")]
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_an_existing_database_file_readable_by_others_is_made_private(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    database = data_dir / "adminpanel.sqlite3"
    database.touch(mode=0o644)
    database.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMINPANEL_DATABASE")}
    env.update(ADMINPANEL_DATA_DIR=str(data_dir), ADMINPANEL_TEST_DATABASE="")
    adminpanel = Path(sys.executable).with_name("adminpanel")
    subprocess.run([adminpanel, "manage", "migrate", "-v0"], env=env, check=True, timeout=120)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
