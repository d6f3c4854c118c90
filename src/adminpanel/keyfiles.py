"""Secrets that are generated once into the data dir when the environment gives none."""

import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet


def read_or_create(path: Path, make) -> str:
    """Return the file's content, creating it (mode 0600) with make() if it does not exist.

    The content is written to a private temporary file first and then hard-linked into place,
    which fails if the name exists: when several processes start at once, the first link wins
    and nobody ever reads a half-written file.
    """
    # The data dir holds keys and the database: only its owner may look inside.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w") as f:  # mkstemp creates the file with mode 0600
                f.write(make() + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def private_file(path: Path) -> Path:
    """The path of a file only its owner may read or write (created empty if missing).

    For the SQLite database: SQLite would create it with the umask's mode (usually 0644), and
    gives its -wal and -shm files the mode of the database file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # made by an earlier version, or by hand
    return path


def secret_key(data_dir: Path) -> str:
    return os.environ.get("ADMINPANEL_SECRET_KEY") or read_or_create(
        data_dir / "secret_key", lambda: secrets.token_urlsafe(64)
    )


def encryption_keys(data_dir: Path, name: str = "encryption_keys") -> list[str]:
    """Fernet keys, newest first: from ADMINPANEL_<NAME>, else the data dir's file `name`."""
    raw = os.environ.get(f"ADMINPANEL_{name.upper()}") or read_or_create(
        data_dir / name, lambda: Fernet.generate_key().decode()
    )
    return [k.strip() for k in raw.split(",") if k.strip()]


def app_password_pepper(data_dir: Path) -> str:
    """The key of the app passwords' SHA-256 (SPEC §14), shared by the panel and Dovecot's
    passdb file. Hex only: Dovecot reads it inside %{sha256;salt=…:password}, where %, ",", ":"
    and "}" would end or change it."""
    pepper = os.environ.get("ADMINPANEL_APP_PASSWORD_PEPPER") or read_or_create(
        data_dir / "app_password_pepper", lambda: secrets.token_hex(32)
    )
    pepper = pepper.strip().lower()
    if len(pepper) < 32 or any(char not in "0123456789abcdef" for char in pepper):
        raise ValueError("ADMINPANEL_APP_PASSWORD_PEPPER is 32 or more hexadecimal digits.")
    return pepper
