"""The Admin and the Sub-Admins: one Account model with access flags and section levels."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import models, transaction
from django.db.models.functions import Lower

from adminpanel import clock
from adminpanel import sections as panel_sections
from adminpanel.people.models import Person

SECTIONS = panel_sections.KEYS
PERSON_KIND = "account"  # Person.kind of an account (settings.PERSON_KINDS)

username_validator = RegexValidator(
    r"\A[A-Za-z0-9._@+-]+\Z",
    "Use only letters A-Z, digits and . _ @ + -",
)


class Level(models.IntegerChoices):
    """Per-section permission; each level includes the ones before it."""

    NONE = 0, "No access"
    VIEW = 1, "View"
    EDIT = 2, "Edit"
    DELETE = 3, "Delete"


class AccountManager(BaseUserManager):
    def get_by_natural_key(self, username: str) -> "Account":
        return self.get(username__iexact=username)

    def create_user(self, username: str, password: str | None = None, **fields) -> "Account":
        account = self.model(username=username, **fields)
        account.set_password(password)
        account.save(using=self._db)
        return account

    def locked(self, account: "Account") -> "Account":
        """The account's row, locked until the transaction ends: the one lock that orders every
        change of an account's security state, on every instance (ARCHITECTURE.md)."""
        return self.select_for_update().get(pk=account.pk)

    def create_superuser(self, username: str, password: str | None = None, **fields):
        fields.setdefault("is_owner", True)
        return self.create_user(username, password, **fields)


class Account(AbstractBaseUser):
    # Who signs in, for the second factor (people.models): made with the account, gone with it.
    person = models.OneToOneField(
        Person, on_delete=models.PROTECT, related_name="account", editable=False
    )
    username = models.CharField(
        max_length=150,
        unique=True,
        validators=[MinLengthValidator(3), username_validator],
    )
    # The Admin (account owner); exactly one exists.
    is_owner = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    web_access = models.BooleanField("Admin Panel", default=True)
    api_access = models.BooleanField("API", default=False)
    # One permission level per section of adminpanel.sections (a test checks they agree).
    domains = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.NONE)
    users = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.NONE)
    aliases = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.NONE)
    logs = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.NONE)
    # Domains scope (SPEC §17): off, the Sub-Admin sees only the domains listed for it
    # (mail.models.ScopedDomain, mail.scope); loaded with the account, so "all" costs no query.
    all_domains = models.BooleanField("All domains", default=True)
    # Addresses and CIDR ranges (normalized strings); empty means any address.
    allowed_ips = models.JSONField(default=list, blank=True)
    # This Sub-Admin must use 2FA (SPEC §12), whatever the Policy says for all of them.
    require_2fa = models.BooleanField("Require 2FA", default=False)
    # Where notices about this account's security go (SPEC §12); empty: none are sent.
    email = models.EmailField("E-mail", max_length=254, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    # One more each time all the account's (other) sessions are ended: a password step still
    # waiting for its second factor, begun before, is ended with them (accounts.services).
    sign_outs = models.PositiveIntegerField(default=0)

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []
    objects = AccountManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="account_username_ci_unique"),
            models.UniqueConstraint(
                fields=["is_owner"], condition=models.Q(is_owner=True), name="one_admin"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs) -> None:
        if self.person_id is None:
            self.person = Person.objects.create(kind=PERSON_KIND)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # The person goes with the account, and with it its second factor's rows.
        with transaction.atomic():
            deleted = super().delete(*args, **kwargs)
            Person.objects.filter(pk=self.person_id).delete()
        return deleted

    def level(self, section: str) -> Level:
        if self.is_owner:
            return Level.DELETE
        return Level(getattr(self, section))

    @property
    def api_allowed(self) -> bool:
        """The Admin always has API access (SPEC §2); a Sub-Admin when its API box is ticked."""
        return self.is_owner or self.api_access

    @property
    def role(self) -> str:
        return "Admin" if self.is_owner else "Sub-Admin"


class PasswordAttempts(models.Model):
    """Failed passwords per client IP within the current 15-minute window (accounts.guessing).

    Every username shares its IP's row, under the username "" (no account has it); rows of
    other usernames come from older versions and expire like any other.
    """

    username = models.CharField(max_length=150)
    ip = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    window_started = models.DateTimeField(db_index=True)  # expired rows are purged by it

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username", "ip"], name="password_attempts_key")
        ]


class PasswordFailures(models.Model):
    """Consecutive failed passwords of one account from any address, and the wait they earned."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="password_failures"
    )
    failures = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    # The retry_at of the wait whose first refusal was logged: the log gets one row per wait.
    refusal_logged_for = models.DateTimeField(null=True, blank=True)
    # A streak ends after a quiet day, as a NameFailures row's does (accounts.guessing).
    last_failure = models.DateTimeField(null=True, blank=True)


class NameFailures(models.Model):
    """Consecutive failed passwords typed for a name whose account's own streak does not count
    them: a name no account has, or an account's name tried from outside its allowed IPs. The
    same schedule as PasswordFailures, so a wait tells nothing about whether the account
    exists, and never makes the owner wait (accounts.guessing)."""

    name = models.CharField(max_length=150, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    refusal_logged_for = models.DateTimeField(null=True, blank=True)
    last_failure = models.DateTimeField(db_index=True)  # quiet rows are purged by it


class WebSession(models.Model):
    """A signed-in web session of an account, beside Django's session row of the same key.

    Django's table knows only a key and opaque data; this row says whose session it is, so
    that an account's sessions can be listed and ended with indexed queries on any instance.
    """

    session_key = models.CharField(max_length=40, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="web_sessions")
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    signed_in_at = models.DateTimeField()
    two_factor = models.BooleanField(default=False)  # signed in (or since confirmed) with 2FA


class Policy(models.Model):
    """The Admin's security policy (Security → Policy): one row."""

    require_2fa_for_subadmins = models.BooleanField("Require 2FA for Sub-Admins", default=False)


class EmailChange(models.Model):
    """A new notice e-mail waiting for its link to be opened (Security → Profile).

    The link's token is stored only as its SHA-256; the newest unused, unexpired row of an
    account is the only one its link may confirm, once.
    """

    account = models.ForeignKey("Account", on_delete=models.CASCADE, related_name="email_changes")
    email = models.EmailField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "created_at"], name="email_change_account")]


class ApiToken(models.Model):
    """One issued bearer token, stored only as the SHA-256 hex digest of its 256 random bits.

    256 bits need no salt or slow hash: a check is one indexed lookup (ARCHITECTURE.md).
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)
    last_used_ip = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "api_apitoken"  # created by the api app's first migration, kept

    def __str__(self) -> str:
        return f"token #{self.pk} of {self.account_id}"

    def is_live(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now


class ApiKey(models.Model):
    """A named, long-lived API key that the Admin made for an API Sub-Admin (SPEC §17).

    Stored only as the SHA-256 of its 256 random bits, like an ApiToken: a check is one
    indexed lookup. It acts as `account`, narrowed further by its own allowed IPs.
    """

    name = models.CharField(max_length=100)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=8)  # the key's last characters, to tell keys apart
    allowed_ips = models.JSONField(default=list, blank=True)  # empty: the account's own list
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.CharField(max_length=150)  # a username: the Admin may be renamed
    expires_at = models.DateTimeField(null=True, blank=True)  # None: never
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)
    # Written at most once a minute per key, and whenever the IP changes (accounts.api_keys).
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            # A name says which key did a change (the Logs): two live keys never share one.
            models.UniqueConstraint(
                Lower("name"),
                condition=models.Q(revoked_at__isnull=True),
                name="api_key_live_name_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def is_live(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
