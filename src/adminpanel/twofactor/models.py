"""TOTP devices, pending setups, recovery codes and the per-account code state.

Only adminpanel.twofactor.services writes these tables, always inside a transaction that
first locks the account's row.
"""

from django.conf import settings
from django.db import models

from adminpanel import clock


class TotpDevice(models.Model):
    """A confirmed authenticator: its existence is what "2FA enabled" means."""

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    encrypted_key = models.TextField()  # MultiFernet token of the base32 key
    created_at = models.DateTimeField(default=clock.now)


class PendingSetup(models.Model):
    """A QR code shown but not yet confirmed. Never a device; a newer one replaces it."""

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_setup"
    )
    encrypted_key = models.TextField()
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()


class RecoveryCode(models.Model):
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=256)  # salted password hash, never the code
    used_at = models.DateTimeField(null=True, blank=True)


class CodeState(models.Model):
    """What earlier code checks decided: the last accepted step and the failure streak."""

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="code_state",
    )
    last_step = models.BigIntegerField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
