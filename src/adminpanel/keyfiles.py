"""Secrets that are generated once into the data dir when the environment gives none."""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def read_or_create(path: Path, make) -> str:
    """Return the file's content, creating it (mode 0600) with make() if it does not exist.

    O_EXCL makes the first writer win when several processes start at once.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(make() + "\n")
    return path.read_text().strip()


def secret_key(data_dir: Path) -> str:
    return os.environ.get("ADMINPANEL_SECRET_KEY") or read_or_create(
        data_dir / "secret_key", lambda: secrets.token_urlsafe(64)
    )


def encryption_keys(data_dir: Path) -> list[str]:
    raw = os.environ.get("ADMINPANEL_ENCRYPTION_KEYS") or read_or_create(
        data_dir / "encryption_keys", lambda: Fernet.generate_key().decode()
    )
    return [k.strip() for k in raw.split(",") if k.strip()]
