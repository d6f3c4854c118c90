"""Read-only queries for the mail pages and the API, behind the same permission check and the
account's Domains scope (mail.scope): what is outside it is not found."""

import idna
from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Concat, Lower

from adminpanel.accounts.models import Account, Level
from adminpanel.accounts.permissions import require
from adminpanel.errors import get_by_id
from adminpanel.mail import scope
from adminpanel.mail import search as search_index
from adminpanel.mail.app_passwords import with_app_password_count
from adminpanel.mail.models import Alias, AliasDomain, Domain, Mailbox
from adminpanel.mailserver.models import MailboxUsage
from adminpanel.pages import ByDomain
from adminpanel.twofactor import interface as twofactor


def _domain_term(search: str) -> str:
    """Let a search typed in Unicode find the stored A-label too ("bücher" finds
    "xn--bcher-kva.example"): whole labels, so a single word works, not only a full name."""
    try:
        return idna.encode(search.strip().rstrip("."), uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return search


def _count_per_domain(rows: QuerySet) -> Coalesce:
    """A domain's rows counted by a subquery on the domain_id index: counted for the page's
    domains only, not by joining every mailbox to every alias of every domain."""
    counted = rows.filter(domain=OuterRef("pk")).order_by().values("domain")
    return Coalesce(Subquery(counted.annotate(n=Count("*")).values("n")), 0)


def _name_filter(term: str) -> Q:
    """A domain's name contains the term, as typed or as its A-label."""
    return Q(name__icontains=term) | Q(name__icontains=_domain_term(term))


def domains(actor: Account, *, search: str = "") -> QuerySet[Domain]:
    require(actor, "domains", Level.VIEW)
    query = scope.narrow(Domain.objects.all(), actor, "pk").annotate(
        # Live mailboxes only: a deleted one waits for its purge under Users → Deleted mailboxes.
        mailbox_count=_count_per_domain(Mailbox.objects.all()),
        alias_count=_count_per_domain(Alias.objects.all()),
    )
    search = search.strip()
    if search:
        query = query.filter(_name_filter(search))
    return query.order_by("name")


def domain_names(actor: Account, section: str) -> list[str]:
    """The domains a new mailbox or alias may go on, for the form's picker (Edit in it)."""
    require(actor, section, Level.EDIT)
    query = scope.narrow(Domain.objects.all(), actor, "pk")
    return list(query.order_by("name").values_list("name", flat=True))


def get_domain(actor: Account, pk: object) -> Domain:
    require(actor, "domains", Level.VIEW)
    return get_by_id(scope.narrow(Domain.objects.all(), actor, "pk"), pk)


def alias_domains(actor: Account, *, search: str = "") -> QuerySet[AliasDomain]:
    """Alias domains, in the Domains section (its levels)."""
    require(actor, "domains", Level.VIEW)
    query = scope.narrow(AliasDomain.objects.select_related("target"), actor, "target")
    search = search.strip()
    if search:
        term = _domain_term(search)
        query = query.filter(
            Q(name__icontains=search)
            | Q(name__icontains=term)
            | Q(target__name__icontains=search)
            | Q(target__name__icontains=term)
        )
    return query.order_by("name")


def get_alias_domain(actor: Account, pk: object) -> AliasDomain:
    require(actor, "domains", Level.VIEW)
    return get_by_id(
        scope.narrow(AliasDomain.objects.select_related("target"), actor, "target"), pk
    )


def _domains_named(term: str) -> list[int]:
    # Read first (a thousand names at most on a big host): a list of ids keeps every condition
    # of the search on the searched table, where its indexes can answer it.
    return list(Domain.objects.filter(_name_filter(term)).values_list("pk", flat=True))


def _address_filter(model: type[Mailbox | Alias], search: str, names: tuple = ()) -> Q:
    """Conditions on the row's own columns and its domain's id only, so that each can use its
    own index (mail.search: trigrams) instead of a scan of every row joined to its domain.
    `names`: columns that may contain the whole search too (a mailbox's display name)."""
    search = search.strip()
    local, _, domain = search.rpartition("@")
    if local and domain:
        found = search_index.contains(model, ("local_part",), local)
        found &= Q(domain__in=_domains_named(domain))
        return (found | search_index.contains(model, names, search)) if names else found
    columns = ("local_part", *names)
    return search_index.contains(model, columns, search) | Q(domain__in=_domains_named(search))


def _with_storage_used(query: QuerySet[Mailbox]) -> QuerySet[Mailbox]:
    """Each mailbox's storage in bytes as Dovecot last reported it (None: nothing yet), and its
    number of active app passwords: a page of mailboxes is one query."""
    address = Concat(Lower("local_part"), Value("@"), "domain__name", output_field=CharField())
    used = MailboxUsage.objects.filter(address=OuterRef("mailserver_address")).values("bytes")
    query = query.annotate(mailserver_address=address, storage_used_bytes=Subquery(used[:1]))
    return twofactor.with_two_factor(with_app_password_count(query))  # the owner's 2FA


def mailboxes(actor: Account, *, search: str = "", domain: str = "") -> QuerySet[Mailbox]:
    require(actor, "users", Level.VIEW)
    # A live mailbox always has its domain: the inner join lets the database walk domains
    # by name and each one's mailboxes by (domain, local part), and stop after a page.
    live = Mailbox.objects.select_related("domain").filter(domain__name__isnull=False)
    query = _with_storage_used(scope.narrow(live, actor))
    if search.strip():
        query = query.filter(_address_filter(Mailbox, search, ("display_name",)))
    if domain:
        query = query.filter(domain__name=_domain_term(domain))
    return query.order_by("domain__name", "local_part")


def listed(actor: Account, query: QuerySet, *, search: str = "", domain: str = "") -> ByDomain:
    """Mailboxes or aliases (from `mailboxes` or `aliases`) for a page or the API: narrowed by
    a search, a domain or a limited scope, or the whole list (pages.ByDomain)."""
    return ByDomain(query, narrowed=bool(search.strip() or domain) or scope.is_limited(actor))


def get_mailbox(actor: Account, pk: object) -> Mailbox:
    require(actor, "users", Level.VIEW)
    query = scope.narrow(Mailbox.objects.select_related("domain"), actor)
    return get_by_id(_with_storage_used(query), pk)


def aliases(actor: Account, *, search: str = "", domain: str = "") -> QuerySet[Alias]:
    require(actor, "aliases", Level.VIEW)
    query = scope.narrow(Alias.objects.select_related("domain"), actor)
    if search.strip():
        query = query.filter(_address_filter(Alias, search))
    if domain:
        query = query.filter(domain__name=_domain_term(domain))
    return query.order_by("domain__name", "local_part")


def get_alias(actor: Account, pk: object) -> Alias:
    require(actor, "aliases", Level.VIEW)
    return get_by_id(scope.narrow(Alias.objects.select_related("domain"), actor), pk)


def alias_warnings(alias: Alias) -> list[str]:
    """What the alias's destinations on the panel's own domains cannot receive (a typo, a
    disabled or deleted mailbox): saved all the same, but the mail server refuses mail to an
    alias none of whose destinations can take it."""
    warnings = []
    for destination in alias.destinations:
        local, _, domain_name = destination.rpartition("@")
        domain = Domain.objects.filter(name=domain_name.lower()).first()
        if domain is None:
            continue
        shown = f"{local}@{domain.display_name}"
        mailbox = Mailbox.objects.filter(domain=domain, local_part__iexact=local).first()
        if mailbox is not None:
            if not mailbox.active or not domain.active:
                warnings.append(f"{shown} is disabled: it receives no mail.")
            continue
        if Alias.objects.filter(lookup_address=destination.lower()).exists():
            continue
        if domain.catch_all:
            continue
        warnings.append(
            f"{shown} is neither a mailbox nor an alias of {domain.display_name}: "
            "mail to it would be refused."
        )
    return warnings
