"""Two customers of a hosting company on one panel, for the Domains scope tests (SPEC §17):
customer A (a.example) whose helpdesk Sub-Admin is limited to it, and customer B (b.example),
whose objects that Sub-Admin must never reach. Built through the product's services."""

from dataclasses import dataclass

from adminpanel import audit
from adminpanel.accounts.models import Account
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.mail import alias_domains, app_passwords, leaving, services
from adminpanel.mail.models import Alias, AliasDomain, AppPassword, Domain, Forwarding, Mailbox
from adminpanel.owners.owner import Owner
from adminpanel.subadmins import services as subadmins

MAILBOX_PASSWORD = "Mailbox-Cobalt-Harbor-27"
EVERYTHING = {"domains": 3, "users": 3, "aliases": 3, "logs": 3}  # Delete in every section


@dataclass
class Customer:
    domain: Domain
    mailbox: Mailbox  # ceo@
    alias: Alias  # sales@ -> ceo@
    alias_domain: AliasDomain  # <name>-alias.example -> the domain
    deleted: Mailbox  # gone@, deleted (its mail kept)


def customer(admin: Account, name: str) -> Customer:
    domain = services.create_domain(admin, name=f"{name}.example")
    mailbox = services.create_mailbox(
        admin, address=f"ceo@{name}.example", password=MAILBOX_PASSWORD, display_name="CEO"
    )
    alias = services.create_alias(
        admin, address=f"sales@{name}.example", destinations=[f"ceo@{name}.example"]
    )
    alias_domain = alias_domains.create_alias_domain(
        admin, name=f"{name}-alias.example", target=f"{name}.example"
    )
    gone = services.create_mailbox(admin, address=f"gone@{name}.example", password=MAILBOX_PASSWORD)
    services.delete_mailbox(admin, gone)
    app_passwords.create_app_password(mailbox, name="Phone", actor=admin)
    leaving.set_forwarding(mailbox, destinations=["ceo@elsewhere.test"], actor=admin)
    # A mail app's login, as the mail host reports it: an event whose actor is the mailbox.
    audit.record(AuditEvent.MAIL_LOGIN, actor_name=f"ceo@{name}.example", protocol="IMAP")
    # Its owner signed in to My mailbox: an event whose actor is no account.
    audit.record(AuditEvent.MAILBOX_LOGIN, actor=Owner(mailbox), two_factor=False)
    return Customer(domain, mailbox, alias, alias_domain, Mailbox.with_deleted.get(pk=gone.pk))


def limited_subadmin(
    admin: Account, username: str, domains: list[str], *, levels: dict | None = None, **options
) -> Account:
    """A Sub-Admin limited to `domains`, with Delete in every section unless told otherwise."""
    account, _ = subadmins.create_subadmin(
        admin,
        username=username,
        password=options.pop("password"),
        levels=levels or EVERYTHING,
        domains_scope=domains,
        **options,
    )
    return account


def state_of(domain: Domain) -> dict:
    """What is stored about a domain and everything on it: unchanged after an attack."""
    return {
        "domain": Domain.objects.filter(pk=domain.pk).values().first(),
        "mailboxes": list(Mailbox.with_deleted.filter(domain=domain).order_by("pk").values()),
        "aliases": list(Alias.objects.filter(domain=domain).order_by("pk").values()),
        "alias_domains": list(AliasDomain.objects.filter(target=domain).order_by("pk").values()),
        "app_passwords": list(
            AppPassword.objects.filter(mailbox__domain=domain)
            .order_by("pk")
            .values("pk", "revoked_at")
        ),
        "forwardings": list(
            Forwarding.objects.filter(mailbox__domain=domain).values("destinations")
        ),
        "dkim": list(domain.dkim_keys.order_by("pk").values_list("selector", flat=True)),
    }
