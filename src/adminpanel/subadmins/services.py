"""The rules for Sub-Admins (SPEC §2): only the Admin creates, edits, resets and deletes them."""

import copy

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from adminpanel import audit
from adminpanel.accounts import endings
from adminpanel.accounts.access import normalize_allowed_ips
from adminpanel.accounts.models import SECTIONS, Account, Level, username_validator
from adminpanel.accounts.passwords import checked_new_password
from adminpanel.accounts.permissions import require_admin
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.changes import edits, update_and_log
from adminpanel.errors import Invalid, get_by_id
from adminpanel.mail import scope
from adminpanel.twofactor import interface as twofactor

WARN_API_ANY_IP = (
    "This account has API access from any IP address. An API login cannot use 2FA, so "
    "restrict it to the addresses your integration uses."
)
WARN_API_WITH_2FA = (
    "This account has 2FA enabled, so its API login will fail. Use an account without 2FA "
    "(API access only) for integrations."
)


def _username(raw: object) -> str:
    if not isinstance(raw, str) or not 3 <= len(raw.strip()) <= 150:
        raise Invalid("username", "A username has 3 to 150 characters.")
    name = raw.strip()
    try:
        username_validator(name)
    except ValidationError:
        raise Invalid("username", "Use only letters A-Z, digits and . _ @ + -") from None
    return name


def _levels(raw: dict | None) -> dict[str, int]:
    cleaned = {}
    for section, value in (raw or {}).items():
        if section not in SECTIONS:
            raise Invalid(section, f"Unknown section {section!r}.")
        try:
            cleaned[section] = Level(int(value)).value
        except (TypeError, ValueError):
            raise Invalid(section, "Choose No access, View, Edit or Delete.") from None
    return cleaned


def warnings_for(account: Account) -> list[str]:
    """What the Admin should know about an account's API exposure."""
    warnings = []
    if account.api_allowed and not account.allowed_ips:
        warnings.append(WARN_API_ANY_IP)
    if account.api_allowed and twofactor.is_enabled(account):
        warnings.append(WARN_API_WITH_2FA)
    return warnings


def _subadmins():
    """Sub-Admins, each with its 2FA state (`two_factor`) loaded in the same query."""
    return scope.with_scopes(twofactor.with_two_factor(Account.objects.filter(is_owner=False)))


def get_subadmin(actor: Account, pk: object) -> Account:
    require_admin(actor)
    return get_by_id(_subadmins(), pk)


def list_subadmins(actor: Account, *, search: str = ""):
    require_admin(actor)
    query = _subadmins()
    if search.strip():
        query = query.filter(username__icontains=search.strip())
    return query.order_by("username")


def _check_access(account: Account) -> None:
    if not (account.web_access or account.api_access):
        raise Invalid("access", "Choose Admin Panel, API or both.")


def _as_edited(account: Account, changes: dict) -> Account:
    """An unsaved copy of the account as `changes` leave it: what the checks before saving
    see (its access, its new username beside its new password)."""
    edited = copy.copy(account)
    for field, value in changes.items():
        setattr(edited, field, value)
    _check_access(edited)
    return edited


def _level_label(level: object) -> str:
    return Level(level).label


def create_subadmin(
    actor: Account,
    *,
    username: object,
    password: object,
    active: bool = True,
    web_access: bool = True,
    api_access: bool = False,
    levels: dict | None = None,
    allowed_ips: object = None,
    require_2fa: bool = False,
    domains_scope: object = None,
    request=None,
) -> tuple[Account, list[str]]:
    """A new Sub-Admin; returns it with the warnings the Admin should see. `domains_scope`:
    "all" (or None) or a list of domain names (SPEC §17)."""
    require_admin(actor)
    name = _username(username)
    domains = scope.parse(scope.ALL if domains_scope is None else domains_scope)
    account = Account(
        username=name,
        is_active=bool(active),
        web_access=bool(web_access),
        api_access=bool(api_access),
        allowed_ips=normalize_allowed_ips(allowed_ips),
        require_2fa=bool(require_2fa),
        all_domains=domains is None,
        **_levels(levels),
    )
    _check_access(account)
    account.set_password(checked_new_password(password, account))
    try:
        with transaction.atomic():
            if Account.objects.filter(username__iexact=account.username).exists():
                raise IntegrityError
            account.save()
            scope.set_domains(account, domains)
            audit.record(
                AuditEvent.SUBADMIN_CREATED,
                actor=actor,
                about_account=account,
                request=request,
                subadmin=account.username,
                web_access=account.web_access,
                api_access=account.api_access,
                allowed_ips=account.allowed_ips,
                require_2fa=account.require_2fa,
                levels={s: account.level(s).label for s in SECTIONS},
                domains_scope=scope.shown_domains(domains),
            )
    except IntegrityError:
        raise Invalid("username", f"The username {account.username} is already taken.") from None
    return account, warnings_for(account)


def update_subadmin(
    actor: Account,
    account: Account,
    *,
    username: object = None,
    password: object = None,
    active: bool | None = None,
    web_access: bool | None = None,
    api_access: bool | None = None,
    levels: dict | None = None,
    allowed_ips: object = None,
    require_2fa: bool | None = None,
    domains_scope: object = None,
    request=None,
) -> tuple[Account, list[str]]:
    """Change a Sub-Admin; an empty password keeps the old one, no `domains_scope` the scope."""
    require_admin(actor)
    if account.is_owner:
        raise Invalid("", "The Admin's own account is not a Sub-Admin.")
    scope_before = scope.shown(account)
    domains = None if domains_scope is None else scope.parse(domains_scope)
    scope_after = scope_before if domains_scope is None else scope.shown_domains(domains)
    fields = {
        "username": _username(username) if username is not None else None,
        "is_active": None if active is None else bool(active),
        "web_access": None if web_access is None else bool(web_access),
        "api_access": None if api_access is None else bool(api_access),
        "allowed_ips": None if allowed_ips is None else normalize_allowed_ips(allowed_ips),
        "require_2fa": None if require_2fa is None else bool(require_2fa),
        "all_domains": None if domains_scope is None else domains is None,
        **_levels(levels),
    }
    changes = {field: value for field, value in fields.items() if value is not None}
    edited = _as_edited(account, changes)
    changed = [field for field, value in changes.items() if getattr(account, field) != value]
    if scope_after != scope_before:
        changed = [field for field in changed if field != "all_domains"] + ["domains_scope"]
    # Named in `changed` but not among the edits, which show the scope itself (and no password).
    unlogged = {
        field: changes.pop(field) for field in ("require_2fa", "all_domains") if field in changes
    }
    if password not in (None, ""):
        unlogged["password"] = make_password(checked_new_password(password, edited))
        changed.append("password")

    def store_scope_and_end_what_it_ends() -> None:
        if domains_scope is not None:
            scope.set_domains(account, domains)
        endings.end_after_change(account, changed, actor=actor, request=request)

    try:
        with transaction.atomic():
            if (
                Account.objects.filter(username__iexact=edited.username)
                .exclude(pk=account.pk)
                .exists()
            ):
                raise IntegrityError
            update_and_log(
                account,
                changes,
                AuditEvent.SUBADMIN_UPDATED,
                unlogged=unlogged,
                shown={section: _level_label for section in SECTIONS},
                elsewhere=edits({"domains_scope": scope_before}, {"domains_scope": scope_after}),
                then=store_scope_and_end_what_it_ends,
                log_unchanged=True,
                actor=actor,
                about_account=account,
                request=request,
                subadmin=edited.username,
                changed=changed,
            )
    except IntegrityError:
        raise Invalid("username", f"The username {edited.username} is already taken.") from None
    return account, warnings_for(account)


def delete_subadmin(actor: Account, account: Account, *, request=None) -> None:
    require_admin(actor)
    if account.is_owner or account.pk == actor.pk:
        raise Invalid("", "The Admin cannot be deleted.")
    with transaction.atomic():
        name = account.username
        endings.end_before_deletion(account, actor=actor, request=request)
        account.delete()
        audit.record(AuditEvent.SUBADMIN_DELETED, actor=actor, request=request, subadmin=name)


def reset_subadmin_2fa(actor: Account, account: Account, *, request=None) -> None:
    """For a Sub-Admin who lost the phone: 2FA off, so it logs in with its password."""
    require_admin(actor)
    if account.is_owner:
        raise Invalid("", "The Admin's 2FA is reset with `adminpanel reset-2fa` on the server.")
    twofactor.reset(account, actor=actor, request=request)
