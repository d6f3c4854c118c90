"""The person who signs in, at the bottom of the house: one row per Admin or Sub-Admin
(accounts.Account.person) today, one per mailbox owner later (SPEC §14).

The second factor's tables (twofactor/) point here, not to a kind of person, so that every
kind has an app, keys, recovery codes, a throttle and a lock through the same code. Its row is
the one lock of that state (ARCHITECTURE "Security state: one mechanism").
"""

from django.db import models

from adminpanel import clock


class Person(models.Model):
    # Which kind of person this is, a key of settings.PERSON_KINDS (people.kinds): what
    # follows when its protection changes is that kind's business.
    kind = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.kind} person {self.pk}"
