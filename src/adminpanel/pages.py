"""Small helpers the web views share: pagination, showing a service's Invalid or Refused, and a
new secret shown once after Post/Redirect/Get."""

from cryptography.fernet import InvalidToken
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import Count, Func, OuterRef, QuerySet, Subquery, Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme

from adminpanel import clock
from adminpanel.crypto import decrypt, encrypt
from adminpanel.errors import Invalid, Refused

PAGE_SIZE = 25
MAX_SEARCH = 200
DEEP_ROWS = 1000  # ByDomain: from this row on, a page is found by counting per domain
GROUPED_ROWS = 10_000  # ByDomain: a narrowed list of up to this many rows, by one GROUP BY


def search_query(request: HttpRequest) -> str:
    """The list's search box (`?q=`): NUL characters dropped (no stored text holds one, and
    PostgreSQL refuses them in a query), at most 200 characters."""
    return request.GET.get("q", "").replace("\x00", "")[:MAX_SEARCH]


def safe_next(request: HttpRequest, candidate: str | None, *, default: str | None = None) -> str:
    """Where to go after a form: `candidate` when it is on this site (and under `default`'s
    side when one is given: My mailbox's pages), else home (`default`)."""
    if (
        candidate
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and (default is None or candidate.startswith(default))
    ):
        return candidate
    return default or settings.LOGIN_REDIRECT_URL


def window(query, bottom: int, top: int) -> list:
    """Rows bottom to top of an ordered list. A query's ids are read first, alone, so that a
    deep page (`?offset=99900`) walks past the rows before it in an index and computes nothing
    for them; then only that page's rows, in that order."""
    if not isinstance(query, QuerySet):
        return list(query[bottom:top])  # ByDomain, or a list
    ids = list(query.values_list("pk", flat=True)[bottom:top])
    if not ids:
        return []
    rows = {row.pk: row for row in query.filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]  # one deleted in between is left out


class ByDomain:
    """A list ordered by its domain's name first (Users, Aliases: 100,000 rows of 1,000
    domains), for a paginator or the API, so that a deep page (`?offset=99900`) is as fast as
    the first. SQLite walks the list's index in its order (domains by name, each one's rows by
    local part): a plain count and an OFFSET read index entries only. PostgreSQL sorts the
    rows of every domain before an OFFSET and plans a plain count as a read of the table;
    there the whole list is counted per domain along the index (in half that time), and a
    deep page reads and sorts only the rows of the domains it falls in. A `narrowed`
    list (a search, one domain, a limited scope) is counted plainly, and when it has a few
    rows, per domain by one GROUP BY, its pages read by their domains."""

    def __init__(self, query: QuerySet, *, narrowed: bool):
        self.query = query
        self.narrowed = narrowed
        self.whole_per_domain = not narrowed and connections[query.db].vendor == "postgresql"
        self.ordered = query.ordered

    @cached_property
    def _count(self) -> int:
        if self.whole_per_domain:
            return sum(n for _, n in self._per_domain)
        return self.query.count()

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self.count()

    @cached_property
    def _per_domain(self) -> list[tuple[object, int]]:
        """(domain id, rows) of the domains that have rows, in the list's order (the domains'
        order from the database: its collation, not Python's)."""
        domains = self.query.model._meta.get_field("domain").related_model.objects
        rows = self.query.order_by().values("domain")
        if self.narrowed:  # few rows: grouped, then their domains put in order
            counts = dict(rows.annotate(n=Count("*")).values_list("domain", "n"))
            ordered = domains.filter(pk__in=counts).order_by("name").values_list("pk", flat=True)
            return [(pk, counts[pk]) for pk in ordered]
        # COUNT as a plain function: no GROUP BY in each domain's subquery.
        each = rows.filter(domain=OuterRef("pk")).annotate(n=Func(Value(1), function="COUNT"))
        found = domains.annotate(n=Subquery(each.values("n"))).order_by("name")
        return [(pk, n) for pk, n in found.values_list("pk", "n") if n]

    def __getitem__(self, rows: slice) -> list:
        bottom, top = rows.start or 0, rows.stop if rows.stop is not None else self.count()
        # A narrowed list of a few rows is read by its domains at any depth: PostgreSQL's
        # generic plan of a prepared search (after 5 uses) cannot tell a rare term from a
        # common one, and walked the whole list in its order to find a page of rare matches.
        few = self.narrowed and self.count() <= GROUPED_ROWS
        if not few and not (self.whole_per_domain and bottom >= DEEP_ROWS):
            return window(self.query, bottom, top)
        before, wanted, taken = 0, [], 0
        for pk, n in self._per_domain:
            if taken == 0 and before + n <= bottom:
                before += n  # a domain wholly before the page
                continue
            if before + taken >= top:
                break
            wanted.append(pk)
            taken += n
        if not wanted:
            return []
        return window(self.query.filter(domain__in=wanted), bottom - before, top - before)


class WindowPaginator(Paginator):
    """A Paginator whose pages are read by `window`."""

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(window(self.object_list, bottom, top), number, self)


def paginate(request: HttpRequest, query) -> Page:
    return WindowPaginator(query, PAGE_SIZE).get_page(request.GET.get("page"))


class CappedPaginator(Paginator):
    """Counts at most `cap` rows, so that a list of a million (the Logs) is not counted on
    every view. Past the cap the total is unknown (`capped`): any page number may be asked
    for, and a page has a next one while it is full."""

    def __init__(self, object_list, per_page: int, cap: int):
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    def validate_number(self, number) -> int:
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number) -> Page:
        if not self.capped:
            return super().page(number)
        bottom = (self.validate_number(number) - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)

    def _get_page(self, object_list, number, paginator) -> Page:
        return CappedPage(object_list, int(number), paginator)


class CappedPage(Page):
    def has_next(self) -> bool:
        if self.paginator.capped:
            return len(self.object_list) == self.paginator.per_page
        return super().has_next()


def paginate_capped(request: HttpRequest, query, cap: int) -> Page:
    return CappedPaginator(query, PAGE_SIZE, cap).get_page(request.GET.get("page"))


def show_invalid(form: forms.Form, error: Invalid) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def render_refused(
    request: HttpRequest,
    template: str,
    context: dict,
    refused: Refused,
    *,
    form: forms.Form | None = None,
    field: str = "challenge",
    shown: bool = False,
) -> HttpResponse:
    """The page again with the refusal's message: under `field` of `form` when given, else at
    the top. 429 when it says wait (200 otherwise: the form is shown again), and Retry-After
    whenever a wait was earned. The one web answer to Refused. `shown`: the page's context
    says the message itself (the 2FA pop-up's wait), so it is not said twice."""
    if shown:
        pass
    elif form is not None:
        form.add_error(field, refused.message)
    else:
        messages.error(request, refused.message)
    response = render(request, template, context, status=429 if refused.throttled else 200)
    if refused.retry_after:
        response["Retry-After"] = str(refused.retry_after)
    return response


# --- a new secret, shown once after Post/Redirect/Get ----------------------------------------

SHOWN_ONCE_SECONDS = 5 * 60  # the redirect is followed at once; a stale one is dropped


def keep_to_show_once(request: HttpRequest, slot: str, secret: str, **about: int) -> None:
    """A secret just made (an app password, an API key), for the page the POST redirects to:
    so that a reload shows the page, not a second secret. The session row holds it encrypted,
    and only until that page takes it (take_shown_once)."""
    request.session[slot] = {"secret": encrypt(secret), "at": clock.now().timestamp(), **about}


def take_shown_once(request: HttpRequest, slot: str) -> dict | None:
    """What keep_to_show_once kept, decrypted, taken out of the session (gone at the next
    view), or None: nothing kept, kept too long ago, or not readable with today's keys."""
    kept = request.session.pop(slot, None)
    if not isinstance(kept, dict) or not isinstance(kept.get("secret"), str):
        return None
    at = kept.get("at")
    if not isinstance(at, int | float) or clock.now().timestamp() - at > SHOWN_ONCE_SECONDS:
        return None
    try:
        return {**kept, "secret": decrypt(kept["secret"])}
    except InvalidToken:
        return None
