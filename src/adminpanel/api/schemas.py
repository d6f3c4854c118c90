"""What the API reads and writes. Schemas check shapes and types only; rules live in services."""

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from ninja import Path, Schema
from pydantic import AfterValidator, ConfigDict, Field

from adminpanel.accounts.models import SECTIONS, Account, ApiKey, Level
from adminpanel.audit.models import Event
from adminpanel.mail import scope
from adminpanel.mail.app_passwords import active_count
from adminpanel.mail.deleted import is_due
from adminpanel.mail.models import Alias, AliasDomain, AutomaticReply, Domain, Forwarding, Mailbox
from adminpanel.twofactor import interface as twofactor

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_OFFSET = 1_000_000_000

LevelName = Literal["none", "view", "edit", "delete"]
LEVEL_NAMES: dict[int, LevelName] = {
    Level.NONE: "none",
    Level.VIEW: "view",
    Level.EDIT: "edit",
    Level.DELETE: "delete",
}
LEVEL_VALUES: dict[str, int] = {name: value for value, name in LEVEL_NAMES.items()}


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("NUL characters are not allowed.")
    return text


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("The date is out of range.") from None


Text = Annotated[str, AfterValidator(_no_nul)]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
# Path parameters: an object's id (the example helps the docs and the fuzzer).
DomainId = Annotated[int, Path(description="The domain's id.", example=1)]
UserId = Annotated[int, Path(description="The mailbox's id.", example=1)]
AliasId = Annotated[int, Path(description="The alias's id.", example=1)]
AliasDomainId = Annotated[int, Path(description="The alias domain's id.", example=1)]
SubadminId = Annotated[int, Path(description="The Sub-Admin's id.", example=2)]


class Input(Schema):
    """A request body: unknown fields are refused, so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


# --- errors and paging -------------------------------------------------------------------


class ErrorOut(Schema):
    error: str = Field(description="A stable code, e.g. `invalid_token`, `permission_denied`.")
    message: str = Field(description="What a person reads.")
    fields: dict[str, str] | None = Field(
        None, description="For bad input: the field names and what is wrong with each."
    )


def _app_password_count(mailbox: Mailbox) -> int:
    """From the list's own query (selectors annotate it), or counted for one mailbox."""
    counted = getattr(mailbox, "app_password_count", None)
    return active_count(mailbox) if counted is None else counted


def responses(ok: dict[int, Any], *errors: int) -> dict[int, Any]:
    """A route's response map: its success bodies plus the error format for each status."""
    return {**ok, **dict.fromkeys(errors, ErrorOut)}


class PageQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="At most 200.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    search: Text = Field("", max_length=200, description="Part of a name or address.")


class MailQuery(PageQuery):
    domain: Text = Field("", max_length=253, description="Only this domain (exact name).")


class LogQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="At most 200.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    since: UtcDatetime | None = Field(None, description="From this time (inclusive, ISO 8601).")
    until: UtcDatetime | None = Field(None, description="Before this time (ISO 8601).")
    actor: Text = Field("", max_length=150, description="Username of the actor.")
    event: Text = Field("", max_length=64, description="Event type, e.g. `api_login`.")


# --- auth and me -------------------------------------------------------------------------


class LoginIn(Input):
    username: str = Field(examples=["deploy-bot"])
    password: str = Field(examples=["a-long-passphrase-for-the-bot"])


class TokenOut(Schema):
    token: str = Field(description="Send it as `Authorization: Bearer <token>`. Shown once.")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_at: datetime


class Access(Schema):
    admin_panel: bool
    api: bool


class Permissions(Schema):
    """One field per section of adminpanel.sections (a test checks they agree)."""

    domains: LevelName
    users: LevelName
    aliases: LevelName
    logs: LevelName


# Built from a loaded account, whose fields are already valid: the response is validated once,
# on the way out, instead of once more here.
def _access(account: Account) -> Access:
    return Access.model_construct(admin_panel=account.web_access, api=account.api_allowed)


def _permissions(account: Account) -> Permissions:
    return Permissions.model_construct(**{s: LEVEL_NAMES[account.level(s)] for s in SECTIONS})


DomainsScope = Literal["all"] | list[Text]
SCOPE_FIELD = Field(
    description='SPEC §17: `"all"`, or the names of the only domains it sees and changes (their '
    "mailboxes, aliases and log events; it adds no domain). Unknown names are refused.",
    examples=["all", ["example.com"]],
)

TwoFactorMethod = Literal["totp", "key"]
METHODS_FIELD = Field(
    description="The account's second factors: `totp` (an authenticator app), `key` (security "
    "keys or passkeys); empty when 2FA is off."
)


class ApiKeyOut(Schema):
    """The API key a request was made with (SPEC §17): what its script may want to know."""

    name: str
    allowed_ips: list[str] = Field(description="The key's own list; the account's applies too.")
    expires_at: datetime | None = Field(description="null: it never expires.")


class MeOut(Schema):
    id: int
    username: str
    role: Literal["Admin", "Sub-Admin"]
    access: Access
    permissions: Permissions
    allowed_ips: list[str]
    domains_scope: DomainsScope = SCOPE_FIELD
    two_factor_methods: list[TwoFactorMethod] = Field(
        description="The account's second factors, as in /subadmins. Always empty here: an "
        "account with a second factor cannot log in to the API, and adding its first one "
        "revokes its tokens, both under the account's lock (an API key acts only as an "
        "account with API access only, which has none)."
    )
    api_key: ApiKeyOut | None = Field(
        default=None, description="The API key of this request; null with a login token."
    )

    @classmethod
    def of(cls, account: Account, key: ApiKey | None = None) -> "MeOut":
        return cls.model_construct(
            id=account.pk,
            username=account.username,
            role=account.role,
            access=_access(account),
            permissions=_permissions(account),
            allowed_ips=list(account.allowed_ips),
            domains_scope=scope.shown(account),  # a query only for a limited account
            # No query: a live token proves the account has no second factor (see above).
            two_factor_methods=[],
            api_key=None
            if key is None
            else ApiKeyOut.model_construct(
                name=key.name, allowed_ips=list(key.allowed_ips), expires_at=key.expires_at
            ),
        )


class HealthOut(Schema):
    status: Literal["ok"]


# --- domains -----------------------------------------------------------------------------


class DomainOut(Schema):
    id: int
    name: str = Field(description="Normalized (IDNA A-label, lower case).")
    unicode_name: str
    active: bool
    catch_all: str
    mail_apps_may_use_mailbox_password: bool = Field(
        description="Mail apps (IMAP, SMTP AUTH) may sign in with the mailbox password, while "
        "its owner has no 2FA. False: only app passwords."
    )
    require_owner_2fa: bool = Field(
        description="Mailbox owners must turn 2FA on before anything else after signing in."
    )
    created_at: datetime

    @classmethod
    def of(cls, domain: Domain) -> "DomainOut":
        return cls(
            id=domain.pk,
            name=domain.name,
            unicode_name=domain.display_name,
            active=domain.active,
            catch_all=domain.catch_all,
            mail_apps_may_use_mailbox_password=domain.mail_apps_may_use_mailbox_password,
            require_owner_2fa=domain.require_owner_2fa,
            created_at=domain.created_at,
        )


class DomainIn(Input):
    name: str = Field(examples=["example.org"])
    active: bool = True
    catch_all: str = Field(
        "", description="An address that receives mail for this domain's unknown addresses."
    )
    mail_apps_may_use_mailbox_password: bool = True
    require_owner_2fa: bool = False


class DomainPatch(Input):
    active: bool | None = None
    catch_all: str | None = None
    mail_apps_may_use_mailbox_password: bool | None = None
    require_owner_2fa: bool | None = None


class DomainPage(Schema):
    items: list[DomainOut]
    total: int
    limit: int
    offset: int


class DnsRecordOut(Schema):
    type: str = Field(description="MX, TXT, CNAME or SRV.", examples=["TXT"])
    name: str = Field(
        description="Fully qualified, A-labels, no trailing dot.", examples=["_dmarc.example.org"]
    )
    value: str = Field(
        description="As the DNS provider takes it; a TXT value as one unquoted string.",
        examples=["v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org"],
    )


class DkimRotatedOut(Schema):
    selector: str = Field(description="The new key's selector: mail is signed with it now.")
    record: DnsRecordOut = Field(description="The new key's DNS record, to publish at once.")
    old_selectors: list[str] = Field(
        description="Keys still published until `POST …/dkim/remove-old-key`."
    )


class DkimRemovedOut(Schema):
    removed: list[str] = Field(description="The selectors of the old keys now removed.")


# --- users (mailboxes) -------------------------------------------------------------------


class UserOut(Schema):
    id: int
    address: str
    local_part: str
    domain: str
    display_name: str
    quota_mb: int
    storage_used_bytes: int | None = Field(
        description="Storage used, as the mail server (Dovecot) last reported it; "
        "null until it has stored mail for this mailbox."
    )
    active: bool
    sign_in_allowed: bool = Field(
        description="Off: the mailbox receives mail, but no password opens it (IMAP, SMTP)."
    )
    app_passwords: int = Field(
        description="How many active app passwords the mailbox has (its owner creates them)."
    )
    two_factor_enabled: bool = Field(
        description="The mailbox's owner has two-factor authentication (My mailbox → 2FA): "
        "its mailbox password then opens no mail app."
    )
    created_at: datetime

    @classmethod
    def of(cls, mailbox: Mailbox) -> "UserOut":
        return cls(
            id=mailbox.pk,
            address=mailbox.address,
            local_part=mailbox.local_part,
            domain=mailbox.domain.name,
            display_name=mailbox.display_name,
            quota_mb=mailbox.quota_mb,
            storage_used_bytes=getattr(mailbox, "storage_used_bytes", None),
            active=mailbox.active,
            sign_in_allowed=mailbox.sign_in_allowed,
            app_passwords=_app_password_count(mailbox),
            two_factor_enabled=twofactor.is_enabled(mailbox),  # annotated by the selectors
            created_at=mailbox.created_at,
        )


class UserIn(Input):
    address: str = Field(
        description="local@domain, on an existing domain.", examples=["bob@example.com"]
    )
    password: str = Field(examples=["a-long-mailbox-passphrase"])
    display_name: str = Field("", examples=["Bob"])
    quota_mb: int = Field(1024, examples=[2048])
    active: bool = True
    sign_in_allowed: bool = True


class UserPatch(Input):
    address: str | None = Field(
        None,
        description="A new address renames the mailbox: its mail, 2FA and app passwords stay.",
        examples=["robert@example.com"],
    )
    keep_old_address_as_alias: bool = Field(
        False, description="With a new address: the old one becomes an alias delivering here."
    )
    display_name: str | None = None
    password: str | None = None
    quota_mb: int | None = None
    active: bool | None = None
    sign_in_allowed: bool | None = None


class RevokedAppPasswordsOut(Schema):
    revoked: int = Field(description="How many active app passwords were revoked.")
    user: UserOut


class DeletedUserOut(Schema):
    id: int
    address: str
    deleted_at: datetime
    mail_kept_until: datetime = Field(
        description="When the mail host purges its mail; Restore works until then."
    )
    restorable: bool = Field(description="False once its mail is due to be purged.")

    @classmethod
    def of(cls, mailbox: Mailbox) -> "DeletedUserOut":
        return cls(
            id=mailbox.pk,
            address=mailbox.address,
            deleted_at=mailbox.deleted_at,
            mail_kept_until=mailbox.purge_after or mailbox.deleted_at,
            restorable=not is_due(mailbox),
        )


class DeletedUserPage(Schema):
    items: list[DeletedUserOut]
    total: int
    limit: int
    offset: int


class UserPage(Schema):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


# --- a mailbox's forwarding and automatic reply (leaving staff) ---------------------------


class ForwardingOut(Schema):
    destinations: list[str] = Field(description="Empty: the mailbox's mail is not forwarded.")
    keep_copy: bool = Field(description="Whether forwarded mail is also kept in the mailbox.")

    @classmethod
    def of(cls, forwarding: Forwarding) -> "ForwardingOut":
        return cls(destinations=forwarding.destinations, keep_copy=forwarding.keep_copy)


class ForwardingIn(Input):
    destinations: list[Text] = Field(
        description="Up to 10 addresses; an empty list stops forwarding.",
        examples=[["anna@elsewhere.example"]],
    )
    keep_copy: bool = True


class AutomaticReplyOut(Schema):
    enabled: bool
    subject: str
    text: str
    starts_on: date | None = Field(description="First day it answers (the mail server's date).")
    ends_on: date | None = Field(description="Last day it answers.")

    @classmethod
    def of(cls, reply: AutomaticReply) -> "AutomaticReplyOut":
        return cls(
            enabled=reply.enabled,
            subject=reply.subject,
            text=reply.text,
            starts_on=reply.starts_on,
            ends_on=reply.ends_on,
        )


class AutomaticReplyIn(Input):
    enabled: bool
    subject: Text = Field("", description='One line; empty: "Auto:" and the message\'s subject.')
    text: Text = Field("", description="Needed when enabled.", examples=["I have left; ..."])
    starts_on: date | None = None
    ends_on: date | None = None


# --- aliases -----------------------------------------------------------------------------


class AliasOut(Schema):
    id: int
    address: str
    domain: str
    destinations: list[str]
    active: bool
    created_at: datetime
    warnings: list[str] = Field(
        default=[],
        description="In the answer to a create or an update only: destinations on the "
        "panel's own domains that cannot receive mail (a typo, a disabled mailbox). The alias "
        "is saved all the same; one none of whose destinations can receive is refused at "
        "RCPT TO by the mail server.",
    )

    @classmethod
    def of(cls, alias: Alias, *, warnings: list[str] | None = None) -> "AliasOut":
        return cls(
            id=alias.pk,
            address=alias.address,
            domain=alias.domain.name,
            destinations=list(alias.destinations),
            active=alias.active,
            created_at=alias.created_at,
            warnings=warnings or [],
        )


class AliasIn(Input):
    address: str = Field(
        description="local@domain, on an existing domain, not a mailbox.",
        examples=["sales@example.com"],
    )
    destinations: list[str] = Field(examples=[["alice@example.com"]])
    active: bool = True


class AliasPatch(Input):
    destinations: list[str] | None = None
    active: bool | None = None


class AliasPage(Schema):
    items: list[AliasOut]
    total: int
    limit: int
    offset: int


# --- alias domains ----------------------------------------------------------------------


class AliasDomainOut(Schema):
    id: int
    name: str = Field(description="Normalized (IDNA A-label, lower case).")
    unicode_name: str
    target: str = Field(description="The domain mail goes to (its A-label).")
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, alias_domain: AliasDomain) -> "AliasDomainOut":
        return cls(
            id=alias_domain.pk,
            name=alias_domain.name,
            unicode_name=alias_domain.display_name,
            target=alias_domain.target.name,
            active=alias_domain.active,
            created_at=alias_domain.created_at,
        )


class AliasDomainIn(Input):
    name: str = Field(
        description="The other name: not a domain of the panel.", examples=["example.org"]
    )
    target: str = Field(description="An existing domain's name.", examples=["example.com"])
    active: bool = True


class AliasDomainPatch(Input):
    active: bool | None = None


class AliasDomainPage(Schema):
    items: list[AliasDomainOut]
    total: int
    limit: int
    offset: int


# --- logs --------------------------------------------------------------------------------


class EventOut(Schema):
    id: int
    at: datetime
    actor: str
    event: str
    ip: str
    user_agent: str
    details: dict[str, Any]
    session_2fa: bool | None = Field(
        description="Done in a web session that passed 2FA (true) or not (false); null: no session."
    )

    @classmethod
    def of(cls, event: Event) -> "EventOut":
        return cls(
            id=event.pk,
            at=event.at,
            actor=event.actor_name,
            event=event.event,
            ip=event.ip,
            user_agent=event.user_agent,
            details=event.details if isinstance(event.details, dict) else {},
            session_2fa=event.session_2fa,
        )


class EventPage(Schema):
    items: list[EventOut]
    total: int
    limit: int
    offset: int


# --- Sub-Admins --------------------------------------------------------------------------


class SubadminOut(Schema):
    id: int
    username: str
    active: bool
    access: Access
    permissions: Permissions
    allowed_ips: list[str]
    domains_scope: DomainsScope = SCOPE_FIELD
    two_factor_enabled: bool
    two_factor_methods: list[TwoFactorMethod] = METHODS_FIELD
    require_2fa: bool = Field(description="This Sub-Admin must use 2FA (Require 2FA).")
    created_at: datetime

    @classmethod
    def of(cls, account: Account, *, methods: list[str]) -> "SubadminOut":
        return cls(
            id=account.pk,
            username=account.username,
            active=account.is_active,
            access=_access(account),
            permissions=_permissions(account),
            allowed_ips=list(account.allowed_ips),
            domains_scope=scope.shown(account),
            two_factor_enabled=bool(methods),
            two_factor_methods=methods,
            require_2fa=account.require_2fa,
            created_at=account.created_at,
        )


class SubadminSaved(SubadminOut):
    warnings: list[str] = Field(description="What the Admin should know, e.g. API from any IP.")


class SubadminPage(Schema):
    items: list[SubadminOut]
    total: int
    limit: int
    offset: int


class AccessIn(Input):
    admin_panel: bool = True
    api: bool = False


class AccessPatch(Input):
    admin_panel: bool | None = None
    api: bool | None = None


class PermissionsIn(Input):
    domains: LevelName = "none"
    users: LevelName = "none"
    aliases: LevelName = "none"
    logs: LevelName = "none"


class PermissionsPatch(Input):
    domains: LevelName | None = None
    users: LevelName | None = None
    aliases: LevelName | None = None
    logs: LevelName | None = None


class SubadminIn(Input):
    username: str = Field(examples=["deploy-bot"])
    password: str = Field(examples=["a-long-passphrase-for-the-bot"])
    active: bool = True
    access: AccessIn = Field(default_factory=AccessIn)
    permissions: PermissionsIn = Field(default_factory=PermissionsIn)
    allowed_ips: list[str] = Field(
        default_factory=list,
        description="IP addresses and CIDR ranges; empty = any.",
        examples=[["203.0.113.0/24"]],
    )
    require_2fa: bool = Field(False, description="Require 2FA: it must enable 2FA to go on.")
    domains_scope: DomainsScope = Field("all", description=SCOPE_FIELD.description)


class SubadminPatch(Input):
    username: str | None = None
    password: str | None = None
    active: bool | None = None
    access: AccessPatch | None = None
    permissions: PermissionsPatch | None = None
    allowed_ips: list[str] | None = None
    require_2fa: bool | None = None
    domains_scope: DomainsScope | None = Field(None, description=SCOPE_FIELD.description)


def levels_in(permissions: PermissionsIn | PermissionsPatch | None) -> dict[str, int]:
    """{"domains": 1, …} for the service, from the names the API uses; unset ones left out."""
    if permissions is None:
        return {}
    chosen = permissions.model_dump(exclude_none=True)
    return {section: LEVEL_VALUES[name] for section, name in chosen.items()}
