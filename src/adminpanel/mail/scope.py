"""A Sub-Admin's Domains scope (SPEC §17): "All domains", or only the domains listed for it.

The one place that narrows data to an account's domains. Selectors and services pass their
queries through `narrow` (mail data) and `narrow_events` (the Logs), so no list, item, count,
search, chart or export can forget it; the account's `all_domains` is loaded with it, so the
Admin and an all-domains Sub-Admin pay no query for it. Outside its domains, a limited
Sub-Admin meets exactly what a visitor meets for a name that does not exist: 404 for an object,
"There is no domain …" for an address, nothing in a list.

Aliases, forwardings and catch-alls it sets may deliver to the outside world and to its own
domains, never into a domain of this panel outside its scope (another customer's mailboxes):
`refuse_foreign_destinations`. The domain names it refuses are public anyway (their MX records
point here); whether an address exists in them is never said.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet

from adminpanel.accounts.models import Account
from adminpanel.accounts.permissions import NotPermitted
from adminpanel.errors import Invalid
from adminpanel.mail.addresses import domain_to_unicode, normalize_domain
from adminpanel.mail.models import AliasDomain, Domain, ScopedDomain

ALL = "all"  # the API's word for "All domains"
FIELD = "domains_scope"
MAX_DOMAINS = 10_000  # names in one scope: more than any picker shows, far below 1 MB of JSON


def is_limited(account: Account) -> bool:
    """Whether the account sees only some domains (the Admin always sees all)."""
    return not (account.is_owner or account.all_domains)


def _domain_ids(account: Account) -> QuerySet:
    return ScopedDomain.objects.filter(account_id=account.pk).values("domain_id")


def narrow(query: QuerySet, account: Account, field: str = "domain") -> QuerySet:
    """`query` limited to rows whose `field` (a Domain foreign key; "pk" for domains) is one of
    the account's domains: a subquery, so a page stays one query."""
    if not is_limited(account):
        return query
    return query.filter(**{f"{field}__in": _domain_ids(account)})


def narrow_events(query: QuerySet, account: Account) -> QuerySet:
    """Events of the account's domains (Event.domain), and its own events about no domain (its
    sign-ins, its 2FA): never another domain's, nor another account's."""
    if not is_limited(account):
        return query
    # The names as values, read first: the database can then read each domain's events by the
    # (domain, at) index, and count them without walking every event (a subquery it cannot).
    names = list(
        ScopedDomain.objects.filter(account_id=account.pk).values_list("domain__name", flat=True)
    )
    return query.filter(Q(domain__in=names) | Q(domain="", actor_id=account.pk))


def existing_domain(account: Account, name: str) -> Domain | None:
    """The domain of this A-label, if the account may see it."""
    return narrow(Domain.objects.filter(name=name), account, "pk").first()


def refuse_adding_domains(account: Account) -> None:
    """Adding a domain or an alias domain widens what a Sub-Admin reaches: all domains only."""
    if is_limited(account):
        raise NotPermitted(
            "Adding a domain or an alias domain needs the Domains scope All domains. The "
            "Admin can add it (and give it to you)."
        )


def refuse_foreign_destinations(account: Account | None, addresses: Iterable[str], field: str):
    """Refuse destinations in a domain (or alias domain) of this panel outside the account's
    scope: delivering into another customer's mailboxes. Outside addresses are fine."""
    if account is None or not is_limited(account):
        return
    names = {address.rpartition("@")[2].lower() for address in addresses}
    if not names:
        return
    mine = _domain_ids(account)
    foreign = set(
        Domain.objects.filter(name__in=names).exclude(pk__in=mine).values_list("name", flat=True)
    )
    foreign |= set(
        AliasDomain.objects.filter(name__in=names)
        .exclude(target__in=mine)
        .values_list("name", flat=True)
    )
    if foreign:
        listed = ", ".join(domain_to_unicode(name) for name in sorted(foreign))
        raise Invalid(
            field,
            f"Mail to {listed} stays on this mail server, in a domain outside your domains: "
            "deliver only to your domains or to addresses elsewhere.",
        )


def route(account: Account | None, path: list[str]) -> str:
    """The steps of a mail loop as the account may read them: a step outside its domains (a
    forwarding the Admin set to another customer) is not named."""
    if account is None or not is_limited(account):
        return " → ".join(path)
    mine = set(
        ScopedDomain.objects.filter(account_id=account.pk).values_list("domain__name", flat=True)
    )
    mine |= set(AliasDomain.objects.filter(target__name__in=mine).values_list("name", flat=True))
    return " → ".join(
        step if step.rpartition("@")[2] in mine else "an address outside your domains"
        for step in path
    )


# --- the scope of a Sub-Admin: read and written here, set by subadmins.services ------------


def names(account: Account) -> list[str] | None:
    """The A-labels of a limited account's domains, sorted; None for all domains. Uses the
    rows prefetched with `with_scopes` when there are some."""
    if not is_limited(account):
        return None
    return sorted(scoped.domain.name for scoped in account.scoped_domains.all())


def shown(account: Account) -> str | list[str]:
    """As the API shows it: "all" or the list of domain names."""
    found = names(account)
    return ALL if found is None else found


def with_scopes(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """Accounts with their domains loaded: a page of Sub-Admins costs one more query, not one
    per row."""
    return accounts.prefetch_related("scoped_domains__domain")


def parse(raw: object) -> list[Domain] | None:
    """The domains of a scope as the API or the form gives it ("all", or a list of names in
    A-labels or Unicode); None for all. Unknown names are refused, every one named."""
    if raw == ALL:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise Invalid(FIELD, 'Choose "all" or a list of domain names.')
    if len(raw) > MAX_DOMAINS:
        raise Invalid(FIELD, f"A scope lists at most {MAX_DOMAINS:,} domains.")
    wanted = list(dict.fromkeys(normalize_domain(item, FIELD) for item in raw))
    if not wanted:
        raise Invalid(FIELD, "Choose at least one domain, or All domains.")
    found = {domain.name: domain for domain in Domain.objects.filter(name__in=wanted)}
    unknown = [name for name in wanted if name not in found]
    if unknown:
        listed = ", ".join(domain_to_unicode(name) for name in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise Invalid(FIELD, f"There is no domain {listed}{more}. Add it first, or leave it out.")
    return [found[name] for name in wanted]


def set_domains(account: Account, domains: list[Domain] | None) -> None:
    """Store the account's domains (None: all; its rows go), in the caller's transaction,
    after the account's own row says `all_domains`."""
    with transaction.atomic():
        ScopedDomain.objects.filter(account_id=account.pk).exclude(
            domain__in=domains or []
        ).delete()
        if domains:
            have = set(
                ScopedDomain.objects.filter(account_id=account.pk).values_list(
                    "domain_id", flat=True
                )
            )
            ScopedDomain.objects.bulk_create(
                [ScopedDomain(account=account, domain=d) for d in domains if d.pk not in have]
            )
    # Rows prefetched before (with_scopes) no longer say what is stored.
    getattr(account, "_prefetched_objects_cache", {}).pop("scoped_domains", None)


def shown_domains(domains: list[Domain] | None) -> str | list[str]:
    """A parsed scope as the API and the Logs show it."""
    return ALL if domains is None else sorted(domain.name for domain in domains)


def all_domain_names() -> list[str]:
    """Every domain's A-label, for the Sub-Admin form's picker (the Admin's)."""
    return list(Domain.objects.order_by("name").values_list("name", flat=True))
