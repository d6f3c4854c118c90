"""Domains, mailboxes (the spec's "Users") and aliases. Written only by mail.services."""

from django.db import models
from django.db.models.functions import Lower

from adminpanel import clock
from adminpanel.mail.addresses import domain_to_unicode


class Domain(models.Model):
    # The IDNA A-label, lower case ("xn--bcher-kva.example"): one spelling per domain.
    name = models.CharField(max_length=253, unique=True)
    active = models.BooleanField(default=True)
    catch_all = models.CharField(max_length=320, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return domain_to_unicode(self.name)


class Mailbox(models.Model):
    local_part = models.CharField(max_length=64)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="mailboxes")
    display_name = models.CharField(max_length=200, blank=True)
    password_hash = models.CharField(max_length=256)
    quota_mb = models.PositiveIntegerField(default=1024)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)
    # Relative to the mail root, chosen at creation (mail.maildirs), never reused.
    maildir = models.CharField(max_length=200, unique=True, editable=False)

    class Meta:
        ordering = ["domain__name", "local_part"]
        constraints = [
            models.UniqueConstraint(Lower("local_part"), "domain", name="mailbox_address_unique")
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain.display_name}"


class Alias(models.Model):
    local_part = models.CharField(max_length=64)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="aliases")
    # "local@a-label" in lower case, as Postfix asks for it: the view mailserver_aliases looks
    # an address up by this index instead of computing every alias's address per lookup.
    lookup_address = models.CharField(max_length=320, unique=True)
    destinations = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["domain__name", "local_part"]
        constraints = [
            models.UniqueConstraint(Lower("local_part"), "domain", name="alias_address_unique")
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain.display_name}"


class AliasDomain(models.Model):
    """Another name of a domain (SPEC §16): mail to local@name goes to local@target."""

    # The IDNA A-label, lower case, like Domain.name; never also a Domain's name.
    name = models.CharField(max_length=253, unique=True)
    # PROTECT: a target domain is deleted only through delete_domain, which says what goes with it.
    target = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="alias_domains")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return domain_to_unicode(self.name)
