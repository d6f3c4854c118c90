"""The outbox: one row per notice, written in the same transaction as the change it tells of.

Only adminpanel.notices writes this table: the outbox when an event is recorded, the sender
when it delivers.
"""

from django.conf import settings
from django.db import models

from adminpanel import clock


class Notice(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Given up"

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.EmailField(max_length=254)
    event = models.CharField(max_length=64)  # the audit event it tells of
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=clock.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the sender may next take it: the backoff after a failure, and the lease of the
    # sender that is sending it now (so no other sender takes it meanwhile).
    next_attempt_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notice_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.to} ({self.status})"
