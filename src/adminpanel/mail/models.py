"""Domains, mailboxes (the spec's "Users") and aliases. Written only by mail.services."""

from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from adminpanel import clock
from adminpanel.mail.addresses import address_to_unicode, domain_to_unicode
from adminpanel.people.models import Person

PERSON_KIND = "mailbox"  # Person.kind of a mailbox's owner (settings.PERSON_KINDS)


class Domain(models.Model):
    # The IDNA A-label, lower case ("xn--bcher-kva.example"): one spelling per domain.
    name = models.CharField(max_length=253, unique=True)
    active = models.BooleanField(default=True)
    catch_all = models.CharField(max_length=320, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    # SPEC §14: off, only app passwords open IMAP and SMTP AUTH for this domain's mailboxes
    # (an owner with 2FA never opens them with the mailbox password, whatever this says).
    mail_apps_may_use_mailbox_password = models.BooleanField(default=True)
    require_owner_2fa = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return domain_to_unicode(self.name)


class LiveMailboxes(models.Manager):
    """Mailboxes that are not deleted: what every page, the API and the mail servers see."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Mailbox(models.Model):
    # Its owner, who signs in to My mailbox with a second factor (SPEC §14, people.models):
    # made with the mailbox, kept while it is deleted (Restore keeps its 2FA), gone with it.
    person = models.OneToOneField(
        Person, on_delete=models.PROTECT, related_name="mailbox", editable=False
    )
    local_part = models.CharField(max_length=64)
    # None only for a deleted mailbox whose domain was deleted after it (deleted_address
    # still names it; Restore needs the domain back).
    domain = models.ForeignKey(
        Domain, on_delete=models.PROTECT, related_name="mailboxes", null=True
    )
    display_name = models.CharField(max_length=200, blank=True)
    password_hash = models.CharField(max_length=256)
    quota_mb = models.PositiveIntegerField(default=1024)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)
    # Relative to the mail root, chosen at creation (mail.maildirs), never reused.
    maildir = models.CharField(max_length=200, unique=True, editable=False)
    # Off: the mailbox receives, but no password opens it (SPEC §16, leaving staff).
    sign_in_allowed = models.BooleanField(default=True)
    # Deleted (SPEC §16): out of the mail servers at once, its mail kept until purge_after.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_address = models.CharField(max_length=320, blank=True)  # "local@a-label"
    purge_after = models.DateTimeField(null=True, blank=True, db_index=True)

    with_deleted = models.Manager()
    objects = LiveMailboxes()

    class Meta:
        ordering = ["domain__name", "local_part"]
        base_manager_name = "with_deleted"
        default_manager_name = "objects"
        constraints = [
            # Only among live mailboxes: a deleted one's address may be taken again.
            models.UniqueConstraint(
                Lower("local_part"),
                "domain",
                condition=Q(deleted_at__isnull=True),
                name="mailbox_address_unique",
            )
        ]
        # Users in its order (domain name, local part) a page at a time (issue 20: 100,000
        # mailboxes): each domain's live mailboxes already in local-part order. It holds every
        # column the count and a page's ids read (deleted_at for SQLite, which does not see that
        # the condition covers it; the id for PostgreSQL), so neither reads the table's rows.
        indexes = [
            models.Index(
                fields=["domain", "local_part", "deleted_at"],
                include=["id"],
                condition=Q(deleted_at__isnull=True),
                name="mailbox_live_listed",
            )
        ]

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs) -> None:
        if self.person_id is None:
            self.person = Person.objects.create(kind=PERSON_KIND)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # The owner goes with the mailbox, and with it its second factor's rows.
        with transaction.atomic():
            deleted = super().delete(*args, **kwargs)
            Person.objects.filter(pk=self.person_id).delete()
        return deleted

    @property
    def username(self) -> str:
        """The name its authenticator app and the Logs show (people.kinds.SignsIn)."""
        return self.address

    @property
    def address(self) -> str:
        if self.domain is None:
            local, _, domain = self.deleted_address.rpartition("@")
            return f"{local}@{domain_to_unicode(domain)}"
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
        # A page's ids from the index alone (the id: PostgreSQL; SQLite keeps it anyway).
        indexes = [
            models.Index(fields=["domain", "local_part"], include=["id"], name="alias_listed")
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain.display_name}"

    @property
    def shown_destinations(self) -> list[str]:
        """The destinations as people write them (stored with A-label domains for Postfix)."""
        return [address_to_unicode(d) for d in self.destinations]


# --- leaving staff (SPEC §16): written only by mail.leaving -------------------------------


class Forwarding(models.Model):
    """Where a mailbox's mail is forwarded; no row (or no destinations): not forwarded."""

    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, primary_key=True, related_name="forwarding"
    )
    destinations = models.JSONField(default=list)
    keep_copy = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=clock.now)


class AutomaticReply(models.Model):
    """The reply a mailbox sends once per sender every few days, between the optional dates."""

    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, primary_key=True, related_name="automatic_reply"
    )
    enabled = models.BooleanField(default=False)
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(default=clock.now)


class SieveScript(models.Model):
    """The Sieve script rendered from the two above when either is saved; the mail server reads
    it through the view mailserver_sieve. No row: plain delivery."""

    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, primary_key=True, related_name="sieve_script"
    )
    script_id = models.CharField(max_length=64)
    script = models.TextField()


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


# --- app passwords (SPEC §14): written only by mail.app_passwords --------------------------


class AppPassword(models.Model):
    """One app password of a mailbox, for one mail app. The secret itself is never stored:
    only its keyed SHA-256 in each spelling a mail app may type (groups joined by nothing, by
    dashes, by spaces), which Dovecot compares with the digest it computes of the typed
    password (mailserver_app_passwords). 124 random bits make a fast hash enough."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="app_passwords")
    name = models.CharField(max_length=100)
    # hex sha256(pepper || spelling); unique, so a lookup is one index probe.
    digest_plain = models.CharField(max_length=64, unique=True)
    digest_dashes = models.CharField(max_length=64, unique=True)
    digest_spaces = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    # What the mail host last reported for a successful login with it (mail.app_passwords
    # folds the reports in); None: never used.
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_protocol = models.CharField(max_length=8, blank=True)  # "IMAP" or "SMTP"
    last_used_ip = models.CharField(max_length=64, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class DkimKey(models.Model):
    """One of a domain's DKIM keys (SPEC §15), written only by mail.dkim. The newest signs;
    older ones stay published in DNS until Remove old key."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="dkim_keys")
    selector = models.CharField(max_length=63)
    # PKCS#8 DER in base64, encrypted with DKIM_ENCRYPTION_KEYS: never shown, read back only by
    # the mail host's signer (mailserver.dkim).
    private_key = models.TextField()
    # SubjectPublicKeyInfo DER in base64: the p= of the DNS record.
    public_key = models.TextField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-id"]  # the newest, the signing key, first (the view's max(id))
        constraints = [
            models.UniqueConstraint(fields=["domain", "selector"], name="dkim_selector_unique")
        ]


# --- delegation (SPEC §17): written only by mail.scope ------------------------------------


class ScopedDomain(models.Model):
    """One domain of a Sub-Admin limited to some domains (Account.all_domains off)."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="scoped_domains"
    )
    # Deleting the domain takes it out of every scope; added again, it is in none.
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "domain"], name="scoped_domain_unique")
        ]
