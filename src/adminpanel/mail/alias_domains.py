"""The rules for alias domains (SPEC §16): `example.org` → `example.com` makes mail to any
address of example.org go to the same local part of example.com. Web and API call these.

Alias domains belong to the Domains section: the same levels (View, Edit, Delete) apply.
A name is either a domain or an alias domain, never both (create_domain checks the other way).
"""

from django.db import IntegrityError, transaction

from adminpanel import audit
from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.permissions import require
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.audit.changes import update_and_log
from adminpanel.errors import Invalid
from adminpanel.mail import routes, scope
from adminpanel.mail.addresses import domain_to_unicode, normalize_domain
from adminpanel.mail.models import AliasDomain, Domain


def _target(raw: object) -> Domain:
    name = normalize_domain(raw, "target")
    target = Domain.objects.filter(name=name).first()
    if target is None:
        raise Invalid("target", f"There is no domain {domain_to_unicode(name)}. Add it first.")
    return target


def _refuse_loop(name: str, target: str) -> None:
    """An alias domain may close a loop: an alias or forwarding to local@name that, once name
    means target, leads back to local@name."""
    change = routes.Change(alias_domains={name: target})
    for address in routes.addresses_at(name):
        loop = routes.find_loop(address, change)
        if loop:
            raise Invalid(
                "name",
                f"With this alias domain mail would go round in a loop {routes.describe(loop)} "
                f"({loop}) and never arrive. Change that alias or forwarding first.",
            )


def create_alias_domain(
    actor: Account, *, name: object, target: object, active: bool = True, request=None
) -> AliasDomain:
    """Add `name` as another name of the existing domain `target`."""
    require(actor, "domains", Level.EDIT)
    scope.refuse_adding_domains(actor)
    ascii_name = normalize_domain(name, "name")
    shown = domain_to_unicode(ascii_name)
    try:
        with transaction.atomic():
            domain = _target(target)
            if domain.name == ascii_name:
                raise Invalid("target", "An alias domain cannot point at itself.")
            if Domain.objects.filter(name=ascii_name).exists():
                raise Invalid(
                    "name",
                    f"{shown} is already a domain with mailboxes of its own. "
                    "An alias domain must be a name that is not a domain.",
                )
            _refuse_loop(ascii_name, domain.name)
            alias_domain = AliasDomain.objects.create(
                name=ascii_name, target=domain, active=bool(active)
            )
            audit.record(
                AuditEvent.ALIAS_DOMAIN_CREATED,
                actor=actor,
                request=request,
                alias_domain=ascii_name,
                target=domain.name,
                active=alias_domain.active,
            )
    except IntegrityError:
        raise Invalid("name", f"The alias domain {shown} already exists.") from None
    return alias_domain


def update_alias_domain(
    actor: Account, alias_domain: AliasDomain, *, active: bool | None = None, request=None
) -> AliasDomain:
    """Switch an alias domain on or off (off: its addresses are unknown to the mail server)."""
    require(actor, "domains", Level.EDIT)
    changes = {} if active is None else {"active": bool(active)}
    with transaction.atomic():
        update_and_log(
            alias_domain,
            changes,
            AuditEvent.ALIAS_DOMAIN_UPDATED,
            log_unchanged=True,
            actor=actor,
            request=request,
            alias_domain=alias_domain.name,
            target=alias_domain.target.name,
            active=changes.get("active", alias_domain.active),
        )
    return alias_domain


def delete_alias_domain(actor: Account, alias_domain: AliasDomain, *, request=None) -> None:
    """Remove an alias domain; the target domain and its mail are untouched."""
    require(actor, "domains", Level.DELETE)
    with transaction.atomic():
        name, target = alias_domain.name, alias_domain.target.name
        alias_domain.delete()
        audit.record(
            AuditEvent.ALIAS_DOMAIN_DELETED,
            actor=actor,
            request=request,
            alias_domain=name,
            target=target,
        )
