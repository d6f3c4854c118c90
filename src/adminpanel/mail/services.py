"""The rules for domains, mailboxes and aliases (SPEC §7). Web and API call these.

Every function checks the actor's section level first, validates, changes the data in one
transaction and records the change in the audit log.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from adminpanel import audit, clock
from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.passwords import checked_new_password
from adminpanel.accounts.permissions import require
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.changes import update_and_log
from adminpanel.errors import Invalid
from adminpanel.mail import dkim, routes, scope
from adminpanel.mail.addresses import (
    domain_to_unicode,
    normalize_address,
    normalize_domain,
    split_address,
)
from adminpanel.mail.maildirs import new_maildir
from adminpanel.mail.models import Alias, AliasDomain, Domain, Mailbox
from adminpanel.mailserver import end_sessions
from adminpanel.mailserver.models import MailboxUsage

MAX_QUOTA_MB = 10 * 1024 * 1024  # 10 TB
MAX_DESTINATIONS = 100


def _existing_domain(actor: Account, name: str, field: str) -> Domain:
    # A domain outside the actor's scope reads as one that does not exist (SPEC §17).
    domain = scope.existing_domain(actor, name)
    if domain is None:
        raise Invalid(field, f"There is no domain {name}. Add the domain first.")
    return domain


def _catch_all(raw: object) -> str:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ""
    return normalize_address(raw, "catch_all")


def _quota(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_QUOTA_MB:
        raise Invalid("quota_mb", f"The quota is a whole number of MB from 1 to {MAX_QUOTA_MB}.")
    return raw


def _display_name(raw: object) -> str:
    if not isinstance(raw, str) or len(raw) > 200 or "\x00" in raw:
        raise Invalid("display_name", "The display name has at most 200 characters.")
    return raw.strip()


def _password_hash(raw: object) -> str:
    # Always Argon2id, whatever else PASSWORD_HASHERS may list: Dovecot verifies this very
    # hash (the view mailserver_mailboxes hands it over as {ARGON2ID}).
    return make_password(checked_new_password(raw), hasher="argon2")


def _destinations(raw: object) -> list[str]:
    if isinstance(raw, str):
        raw = [line for line in raw.replace(",", "\n").splitlines()]
    if not isinstance(raw, list):
        raise Invalid("destinations", "Enter one or more destination addresses.")
    cleaned: list[str] = []
    for item in raw:
        if isinstance(item, str) and not item.strip():
            continue
        address = normalize_address(item, "destinations")
        if address not in cleaned:
            cleaned.append(address)
    if not cleaned:
        raise Invalid("destinations", "Enter one or more destination addresses.")
    if len(cleaned) > MAX_DESTINATIONS:
        raise Invalid("destinations", f"An alias has at most {MAX_DESTINATIONS} destinations.")
    return cleaned


def _address_taken(local: str, domain: Domain) -> str | None:
    if Mailbox.objects.filter(domain=domain, local_part__iexact=local).exists():
        return "a mailbox"
    if Alias.objects.filter(domain=domain, local_part__iexact=local).exists():
        return "an alias"
    return None


def _create_at_address(
    model,
    local: str,
    domain_name: str,
    *,
    actor: Account,
    request,
    event: AuditEvent,
    logged: dict | None = None,
    check=None,
    **fields,
):
    """Create a mailbox or an alias at a free address of an existing domain, and log it.

    One address is either a mailbox or an alias: an alias may not shadow a mailbox. `check`
    runs after that rule, in the same transaction, before the row is written.
    """
    try:
        with transaction.atomic():
            domain = _existing_domain(actor, domain_name, "address")
            taken = _address_taken(local, domain)
            if taken:
                raise Invalid("address", f"{local}@{domain.display_name} is already {taken}.")
            if check is not None:
                check()
            created = model.objects.create(local_part=local, domain=domain, **fields)
            audit.record(
                event, actor=actor, request=request, address=created.address, **(logged or {})
            )
    except IntegrityError:
        raise Invalid("address", f"{local}@{domain_name} already exists.") from None
    return created


# --- domains -----------------------------------------------------------------------------


def create_domain(
    actor: Account,
    *,
    name: object,
    active: bool = True,
    catch_all: object = "",
    mail_apps_may_use_mailbox_password: bool = True,
    require_owner_2fa: bool = False,
    request=None,
) -> Domain:
    """Add a domain, stored as its normalized IDNA name."""
    require(actor, "domains", Level.EDIT)
    scope.refuse_adding_domains(actor)
    ascii_name = normalize_domain(name)
    catch = _catch_all(catch_all)
    pair = dkim.new_key_pair()
    try:
        with transaction.atomic():
            if AliasDomain.objects.filter(name=ascii_name).exists():
                raise Invalid(
                    "name",
                    f"{domain_to_unicode(ascii_name)} is already an alias domain. Delete the "
                    "alias domain first to give this name mailboxes of its own.",
                )
            _refuse_catch_all_loop(actor, ascii_name, catch, "catch_all")
            domain = Domain.objects.create(
                name=ascii_name,
                active=bool(active),
                catch_all=catch,
                mail_apps_may_use_mailbox_password=bool(mail_apps_may_use_mailbox_password),
                require_owner_2fa=bool(require_owner_2fa),
            )
            dkim.add_key(domain, pair)  # mail from it is signed from its first message on
            audit.record(AuditEvent.DOMAIN_CREATED, actor=actor, request=request, domain=ascii_name)
    except IntegrityError:
        raise Invalid("name", f"The domain {ascii_name} already exists.") from None
    return domain


def update_domain(
    actor: Account,
    domain: Domain,
    *,
    active: bool | None = None,
    catch_all: object = None,
    mail_apps_may_use_mailbox_password: bool | None = None,
    require_owner_2fa: bool | None = None,
    request=None,
) -> Domain:
    """Change a domain. `mail_apps_may_use_mailbox_password` off: from the next login on, only
    app passwords open IMAP and SMTP AUTH for its mailboxes (Dovecot reads it live)."""
    require(actor, "domains", Level.EDIT)
    changes = {
        field: bool(value)
        for field, value in {
            "active": active,
            "mail_apps_may_use_mailbox_password": mail_apps_may_use_mailbox_password,
            "require_owner_2fa": require_owner_2fa,
        }.items()
        if value is not None
    }
    if catch_all is not None:
        changes["catch_all"] = _catch_all(catch_all)
        scope.refuse_foreign_destinations(
            actor, [changes["catch_all"]] if changes["catch_all"] else [], "catch_all"
        )
    with transaction.atomic():
        if changes.get("catch_all"):
            _refuse_catch_all_loop(actor, domain.name, changes["catch_all"], "catch_all")
        update_and_log(
            domain,
            changes,
            AuditEvent.DOMAIN_UPDATED,
            log_unchanged=True,
            actor=actor,
            request=request,
            domain=domain.name,
            **changes,
        )
        if changes.get("active") is False:
            end_sessions.request_end(
                *(
                    _dovecot_name(m)
                    for m in Mailbox.objects.filter(domain=domain).select_related("domain")
                )
            )
    return domain


def delete_domain(actor: Account, domain: Domain, *, cascade: bool = False, request=None) -> None:
    """Delete a domain; one with mailboxes, aliases or alias domains only when asked to cascade
    (then they go with it: an alias domain of a deleted domain would lead nowhere)."""
    require(actor, "domains", Level.DELETE)
    with transaction.atomic():
        mailboxes = Mailbox.objects.filter(domain=domain).count()
        aliases = Alias.objects.filter(domain=domain).count()
        alias_domains = list(
            AliasDomain.objects.filter(target=domain).values_list("name", flat=True)
        )
        if (mailboxes or aliases or alias_domains) and not cascade:
            also = f" and {len(alias_domains)} alias domain(s)" if alias_domains else ""
            raise Invalid(
                "cascade",
                f"{domain.display_name} still has {mailboxes} mailbox(es) and {aliases} "
                f"alias(es){also}. Delete them first, or confirm deleting everything with it.",
            )
        if cascade and (mailboxes or aliases):
            require(actor, "users", Level.DELETE)
            require(actor, "aliases", Level.DELETE)
        for mailbox in Mailbox.objects.filter(domain=domain).select_related("domain"):
            _set_deleted(mailbox)
            end_sessions.request_end(_dovecot_name(mailbox))
        # Deleted mailboxes keep their address (deleted_address) and their mail until the
        # purge; Restore needs the domain added again.
        Mailbox.with_deleted.filter(domain=domain).update(domain=None)
        Alias.objects.filter(domain=domain).delete()
        AliasDomain.objects.filter(target=domain).delete()
        name = domain.name
        domain.delete()
        audit.record(
            AuditEvent.DOMAIN_DELETED,
            actor=actor,
            request=request,
            domain=name,
            mailboxes_deleted=mailboxes,
            aliases_deleted=aliases,
            # Named, not counted: each was a name mail was sent to.
            **({"alias_domains_deleted": alias_domains} if alias_domains else {}),
        )


# --- mailboxes ---------------------------------------------------------------------------


def create_mailbox(
    actor: Account,
    *,
    address: object,
    password: object,
    display_name: object = "",
    quota_mb: object = 1024,
    active: bool = True,
    sign_in_allowed: bool = True,
    request=None,
) -> Mailbox:
    """Add a mailbox local@domain on an existing domain; its password is hashed."""
    require(actor, "users", Level.EDIT)
    local, domain_name = split_address(address)
    fields = {
        "display_name": _display_name(display_name),
        "quota_mb": _quota(quota_mb),
        "password_hash": _password_hash(password),
    }
    return _create_at_address(
        Mailbox,
        local,
        domain_name,
        actor=actor,
        request=request,
        event=AuditEvent.MAILBOX_CREATED,
        active=bool(active),
        sign_in_allowed=bool(sign_in_allowed),
        maildir=new_maildir(local, domain_name),
        **fields,
    )


def update_mailbox(
    actor: Account,
    mailbox: Mailbox,
    *,
    address: object = None,
    keep_old_address_as_alias: bool = False,
    display_name: object = None,
    password: object = None,
    quota_mb: object = None,
    active: bool | None = None,
    sign_in_allowed: bool | None = None,
    request=None,
) -> Mailbox:
    """Change a mailbox's settings; a new address renames it (_rename)."""
    require(actor, "users", Level.EDIT)
    values = {
        "display_name": None if display_name is None else _display_name(display_name),
        "quota_mb": None if quota_mb is None else _quota(quota_mb),
        "active": None if active is None else bool(active),
        "sign_in_allowed": None if sign_in_allowed is None else bool(sign_in_allowed),
    }
    new_address = None if address in (None, "") else split_address(address)
    given = {field: value for field, value in values.items() if value is not None}
    # The log names only what really changed.
    changed = [field for field, value in given.items() if getattr(mailbox, field) != value]
    unlogged = {}
    if password not in (None, ""):
        unlogged["password_hash"] = _password_hash(password)
        changed.append("password")
    address_before = _dovecot_name(mailbox)
    with transaction.atomic():
        if new_address is not None:
            _rename(actor, mailbox, *new_address, keep_old_address_as_alias, request)
        update_and_log(
            mailbox,
            given,
            AuditEvent.MAILBOX_UPDATED,
            unlogged=unlogged,
            # A rename alone is logged as a rename; an edit that changes nothing, as an edit.
            log_unchanged=bool(changed) or new_address is None,
            actor=actor,
            request=request,
            address=mailbox.address,
            changed=changed,
        )
        # Open IMAP sessions end as web sessions do (issue 21 item 7): a new password, a
        # disabled mailbox or sign-in, or a new address (the sessions carry the old one).
        if (
            "password" in changed
            or values["active"] is False
            or values["sign_in_allowed"] is False
            or _dovecot_name(mailbox) != address_before
        ):
            end_sessions.request_end(address_before)
    return mailbox


def _rename(
    actor: Account, mailbox: Mailbox, local: str, domain_name: str, keep_alias: bool, request
) -> None:
    """Move the mailbox to local@domain: its row, maildir, 2FA and app passwords stay, so its
    mail and its sign-in go with it. The old address may stay as an alias delivering here."""
    old_local, old_domain = mailbox.local_part, mailbox.domain
    old_address = f"{old_local.lower()}@{old_domain.name}"
    domain = _existing_domain(actor, domain_name, "address")
    if f"{local.lower()}@{domain.name}" == old_address and local == old_local:
        return  # the same address: nothing to rename
    same_but_case = f"{local.lower()}@{domain.name}" == old_address
    taken = None if same_but_case else _address_taken(local, domain)
    if taken:
        raise Invalid("address", f"{local}@{domain.display_name} is already {taken}.")
    shown_before = mailbox.address
    mailbox.local_part, mailbox.domain = local, domain
    try:
        with transaction.atomic():
            mailbox.save(update_fields=["local_part", "domain"])
            # Storage used, as Dovecot reported it, follows the mailbox to its new name.
            new_name = f"{local.lower()}@{domain.name}"
            if new_name != old_address:
                MailboxUsage.objects.filter(address=new_name).delete()
                MailboxUsage.objects.filter(address=old_address).update(address=new_name)
            if keep_alias and not same_but_case:
                Alias.objects.create(
                    local_part=old_local,
                    domain=old_domain,
                    destinations=[f"{local.lower()}@{domain.name}"],
                    lookup_address=old_address,
                )
    except IntegrityError:
        mailbox.local_part, mailbox.domain = old_local, old_domain
        raise Invalid("address", f"{local}@{domain.display_name} is already taken.") from None
    audit.record(
        AuditEvent.MAILBOX_RENAMED,
        actor=actor,
        request=request,
        address=mailbox.address,
        old_address=shown_before,
        old_address_kept_as_alias=bool(keep_alias and not same_but_case),
    )


def delete_mailbox(actor: Account, mailbox: Mailbox, *, request=None) -> None:
    """Take the mailbox out of the mail servers at once; its mail is kept for the retention
    period (Users → Deleted mailboxes: Restore, Purge now)."""
    require(actor, "users", Level.DELETE)
    with transaction.atomic():
        purge_after = _set_deleted(mailbox)
        end_sessions.request_end(_dovecot_name(mailbox))
        audit.record(
            AuditEvent.MAILBOX_DELETED,
            actor=actor,
            request=request,
            address=mailbox.address,
            mail_kept_until=purge_after.isoformat(timespec="seconds"),
        )


def _dovecot_name(mailbox: Mailbox) -> str:
    """The address Dovecot knows the mailbox by (lower case, A-label), as in the views."""
    return f"{mailbox.local_part.lower()}@{mailbox.domain.name}"


def _set_deleted(mailbox: Mailbox):
    """Mark one live mailbox deleted (the caller's transaction); returns when it is purged."""
    now = clock.now()
    mailbox.deleted_at = now
    mailbox.deleted_address = f"{mailbox.local_part}@{mailbox.domain.name}"
    mailbox.purge_after = now + timedelta(days=settings.MAIL_RETENTION_DAYS)
    mailbox.save(update_fields=["deleted_at", "deleted_address", "purge_after"])
    return mailbox.purge_after


# --- aliases -----------------------------------------------------------------------------


def _refuse_alias_loop(actor: Account, address: str, targets: list[str]) -> None:
    address = address.lower()
    loop = routes.find_loop(address, routes.Change(aliases={address: targets}))
    if loop:
        raise Invalid(
            "destinations",
            f"These destinations make a loop {routes.describe(loop)} "
            f"({scope.route(actor, loop.path)}): mail would never "
            "arrive. Remove one of them.",
        )


def _refuse_catch_all_loop(actor: Account, domain: str, catch_all: str, field: str) -> None:
    """A catch-all that leads back to its own domain's unknown addresses loops."""
    if not catch_all:
        return
    change = routes.Change(catch_alls={domain: catch_all})
    loop = routes.find_loop(routes.catch_all_node(domain), change)
    if loop:
        raise Invalid(
            field,
            f"This catch-all makes a loop {routes.describe(loop)} "
            f"({scope.route(actor, loop.path)}): mail would never "
            "arrive. Choose another address.",
        )


def create_alias(
    actor: Account, *, address: object, destinations: object, active: bool = True, request=None
) -> Alias:
    """Add an alias on an existing domain; it may not shadow a mailbox."""
    require(actor, "aliases", Level.EDIT)
    local, domain_name = split_address(address)
    targets = _destinations(destinations)
    scope.refuse_foreign_destinations(actor, targets, "destinations")
    return _create_at_address(
        Alias,
        local,
        domain_name,
        actor=actor,
        request=request,
        event=AuditEvent.ALIAS_CREATED,
        logged={"destinations": targets},
        check=lambda: _refuse_alias_loop(actor, f"{local}@{domain_name}", targets),
        destinations=targets,
        lookup_address=f"{local.lower()}@{domain_name}",
        active=bool(active),
    )


def update_alias(
    actor: Account,
    alias: Alias,
    *,
    destinations: object = None,
    active: bool | None = None,
    request=None,
) -> Alias:
    require(actor, "aliases", Level.EDIT)
    changes = {}
    if destinations is not None:
        changes["destinations"] = _destinations(destinations)
        scope.refuse_foreign_destinations(actor, changes["destinations"], "destinations")
        _refuse_alias_loop(actor, alias.lookup_address, changes["destinations"])
    if active is not None:
        changes["active"] = bool(active)
    with transaction.atomic():
        update_and_log(
            alias,
            changes,
            AuditEvent.ALIAS_UPDATED,
            log_unchanged=True,
            actor=actor,
            request=request,
            address=alias.address,
            destinations=changes.get("destinations", alias.destinations),
            active=changes.get("active", alias.active),
        )
    return alias


def delete_alias(actor: Account, alias: Alias, *, request=None) -> None:
    require(actor, "aliases", Level.DELETE)
    with transaction.atomic():
        address = alias.address
        alias.delete()
        audit.record(AuditEvent.ALIAS_DELETED, actor=actor, request=request, address=address)
