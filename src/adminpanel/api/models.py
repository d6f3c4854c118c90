"""API bearer tokens. Only adminpanel.api.services writes this table."""

from django.conf import settings
from django.db import models

from adminpanel import clock


class ApiToken(models.Model):
    """One issued bearer token, stored only as the SHA-256 hex digest of its 256 random bits.

    256 bits need no salt or slow hash: a check is one indexed lookup (ARCHITECTURE.md).
    """

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)
    last_used_ip = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"token #{self.pk} of {self.account_id}"

    def is_live(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now
