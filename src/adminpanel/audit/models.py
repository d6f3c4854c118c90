from django.conf import settings
from django.db import models

from adminpanel import clock


class Event(models.Model):
    """One line of the audit log. Never holds a secret, code or password."""

    at = models.DateTimeField(default=clock.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The account the event is about: the actor's own (a sign-in, its 2FA) or another one (a
    # Sub-Admin changed, a 2FA reset); none for mail data. Notices go to it (SPEC §12).
    about_account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the log still names an actor after the account is deleted.
    actor_name = models.CharField(max_length=150, blank=True, db_index=True)
    event = models.CharField(max_length=64, db_index=True)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Done in a signed-in web session: did that session pass 2FA? (None: no such session.)
    session_2fa = models.BooleanField(null=True, blank=True)
    # The domain (A-label) of the mail data it is about, "" for none, filled by record(): a
    # Sub-Admin limited to some domains reads only their events (SPEC §17).
    domain = models.CharField(max_length=253, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        # Home and the notices read one kind of event (of one actor) newest first: without
        # these, a million rows are walked back along `at` to find a rare failure. A limited
        # Sub-Admin's Logs read the events of its domains (SPEC §17).
        indexes = [
            models.Index(fields=["event", "at"], name="audit_event_event_at"),
            models.Index(fields=["actor", "event", "at"], name="audit_event_actor_event_at"),
            models.Index(fields=["domain", "at"], name="event_domain_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.event}"
