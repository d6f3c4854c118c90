"""Encryption at rest for secrets we must read back (TOTP keys, DKIM keys): MultiFernet, newest
key first. `keys`: another list than ENCRYPTION_KEYS (DKIM_ENCRYPTION_KEYS)."""

from collections.abc import Sequence

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _fernet(keys: Sequence[str] | None) -> MultiFernet:
    chosen = settings.ENCRYPTION_KEYS if keys is None else keys
    return MultiFernet([Fernet(k.encode()) for k in chosen])


def encrypt(plaintext: str, keys: Sequence[str] | None = None) -> str:
    return _fernet(keys).encrypt(plaintext.encode()).decode()


def decrypt(token: str, keys: Sequence[str] | None = None) -> str:
    return _fernet(keys).decrypt(token.encode()).decode()
