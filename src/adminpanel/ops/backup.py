"""`adminpanel backup FILE` and `adminpanel restore FILE [--force]` (SPEC §13).

One archive (a gzipped tar, mode 0600) holds a manifest, the database and the keys of the
data dir. Without the encryption keys no TOTP key can be read, so the archive is as secret
as both together. SQLite is copied with its online backup API (a consistent copy while the
panel runs); PostgreSQL with pg_dump's custom format, brought back by pg_restore in one
transaction.
"""

import io
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError

from adminpanel import clock

FORMAT = 1
# The app password pepper too: without it no app password opens IMAP after a restore.
KEY_FILES = ("secret_key", "encryption_keys", "dkim_encryption_keys", "app_password_pepper")
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# Debian keeps each PostgreSQL major version's programs here; the newest can dump every older.
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason for the operator."""


def _vendor() -> str:
    return connections[DEFAULT_DB_ALIAS].vendor


def pg_program(name: str) -> str:
    """pg_dump or pg_restore: ADMINPANEL_PG_BIN, else Debian's newest version, else PATH."""
    directories = [os.environ.get("ADMINPANEL_PG_BIN", "")]
    versions = sorted(
        Path("/").glob(PG_BIN_GLOB.lstrip("/")),
        key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0),
        reverse=True,
    )
    directories += [str(p) for p in versions]
    for directory in filter(None, directories):
        candidate = Path(directory) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install postgresql-client or set ADMINPANEL_PG_BIN.")
    return found


def _pg_environment() -> dict[str, str]:
    """libpq's variables for the configured database (the password never on a command line)."""
    db = settings.DATABASES[DEFAULT_DB_ALIAS]
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if db.get(key):
            env[variable] = str(db[key])
    return env


def _run(argv: list[str]) -> None:
    # Our own argument list (program path, options, file names): no shell, nothing typed by a user.
    done = subprocess.run(argv, env=_pg_environment(), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {done.stderr.strip()}")


def _dump_database(target: Path) -> None:
    if _vendor() == "sqlite":
        source = connections[DEFAULT_DB_ALIAS]
        source.ensure_connection()
        copy = sqlite3.connect(target)
        try:
            source.connection.backup(copy)
        finally:
            copy.close()
    else:
        _run([pg_program("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)])


def backup(path: Path) -> list[str]:
    """Write the archive to path (mode 0600); return the names of the keys it holds."""
    vendor = _vendor()
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR) as work:
        dump = Path(work) / DUMPS[vendor]
        _dump_database(dump)
        keys = [name for name in KEY_FILES if (settings.DATA_DIR / name).is_file()]
        manifest = {"format": FORMAT, "database": vendor, "keys": keys, "at": clock.now()}
        with _private_file(path) as out, tarfile.open(fileobj=out, mode="w:gz") as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest, default=str).encode())
            tar.add(dump, arcname=dump.name)
            for name in keys:
                tar.add(settings.DATA_DIR / name, arcname=f"keys/{name}")
    return keys


@contextmanager
def _private_file(path: Path):
    """A file open for writing that becomes `path` (mode 0600) once written whole.

    It is written under a random name, created exclusively and never through a symlink
    (mkstemp), so nobody else can plant that name beforehand and receive the secrets. A
    directory others may write to, without the sticky bit, is refused: there, another user
    could swap the finished file for one of theirs."""
    directory = path.parent
    mode = directory.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        raise BackupError(
            f"{directory} may be written by other users: choose a directory only you can "
            "write to (the file holds the panel's keys)."
        )
    descriptor, partial = tempfile.mkstemp(
        dir=directory, prefix=f".{path.name}.", suffix=".partial"
    )
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            yield out
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    tar.addfile(info, io.BytesIO(data))


def database_holds_data() -> bool:
    """True when the configured database has any account (an empty or new one has none)."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            if "accounts_account" not in connection.introspection.table_names(cursor):
                return False
            cursor.execute("SELECT 1 FROM accounts_account LIMIT 1")
            return cursor.fetchone() is not None
    except DatabaseError as error:
        raise BackupError(f"The database cannot be read: {error}") from error


def restore(path: Path, *, force: bool) -> list[str]:
    """Bring the archive's database and keys back; return the names of the keys restored."""
    try:
        tar = tarfile.open(path, mode="r:gz")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{path} is not a backup of this panel: {error}") from error
    with tar, tempfile.TemporaryDirectory(dir=settings.DATA_DIR) as work:
        try:
            manifest = json.load(_member(tar, "manifest.json"))
        except ValueError as error:
            raise BackupError(f"{path} is not a backup of this panel: {error}") from error
        vendor = _vendor()
        if manifest.get("format") != FORMAT or manifest.get("database") not in DUMPS:
            raise BackupError(f"{path} is not a backup of this panel.")
        if manifest["database"] != vendor:
            raise BackupError(
                f"This backup holds a {manifest['database']} database; the panel is configured "
                f"for {vendor} (ADMINPANEL_DATABASE_URL)."
            )
        if database_holds_data() and not force:
            raise BackupError(
                "The database already holds data: nothing was changed. "
                "Give --force to replace it with the backup."
            )
        # Only the members this module writes are read, each to a name chosen here: nothing in
        # the archive decides where a file lands.
        keys = [name for name in KEY_FILES if name in manifest.get("keys", [])]
        key_bytes = {name: _member(tar, f"keys/{name}").read() for name in keys}
        dump = Path(work) / DUMPS[vendor]
        with open(dump, "wb") as out:
            shutil.copyfileobj(_member(tar, DUMPS[vendor]), out)
        _load_database(dump)
        for name, data in key_bytes.items():
            _write_private(settings.DATA_DIR / name, data)
    return keys


def _member(tar: tarfile.TarFile, name: str):
    """A regular file of the archive, opened for reading."""
    try:
        member = tar.extractfile(name)
    except (KeyError, tarfile.TarError) as error:
        raise BackupError(f"{tar.name} is not a backup of this panel: no {name}.") from error
    if member is None:
        raise BackupError(f"{tar.name} is not a backup of this panel: {name} is not a file.")
    return member


def _load_database(dump: Path) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    if _vendor() == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(dump)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        connection.close()
    else:
        connection.close()
        _run(
            [
                pg_program("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                _pg_environment()["PGDATABASE"],
                str(dump),
            ]
        )


def _write_private(path: Path, data: bytes) -> None:
    with _private_file(path) as out:
        out.write(data)
