"""A signed-in session of a mailbox's owner, beside Django's session row of the same key.

Apart from the Admin's accounts.WebSession: an owner's session is its own kind (SPEC §14), it
names a mailbox, never an account, and it never opens an Admin page (owners.sessions).
"""

from django.db import models

from adminpanel import clock
from adminpanel.mail.models import Mailbox


class OwnerSession(models.Model):
    session_key = models.CharField(max_length=40, unique=True)
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="owner_sessions")
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    signed_in_at = models.DateTimeField(default=clock.now)
    two_factor = models.BooleanField(default=False)  # signed in with its second factor
