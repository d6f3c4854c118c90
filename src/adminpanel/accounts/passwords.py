"""The one rule for a new password, for accounts and mailboxes alike (SPEC §2: 10+ characters,
not a common password)."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from adminpanel.errors import Invalid

MAX_PASSWORD_LENGTH = 4096  # longer input is refused before any hashing


def checked_new_password(raw: object, user=None) -> str:
    """The password itself when it passes Django's validators, else Invalid("password")."""
    if not isinstance(raw, str) or not raw:
        raise Invalid("password", "Enter a password.")
    if len(raw) > MAX_PASSWORD_LENGTH:
        raise Invalid("password", "The password is too long.")
    try:
        validate_password(raw, user)
    except ValidationError as error:
        raise Invalid("password", " ".join(error.messages)) from None
    return raw
