"""Small helpers the web views share: pagination, and showing a service's Invalid or Refused."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme

from adminpanel.errors import Invalid, Refused

PAGE_SIZE = 25
MAX_SEARCH = 200


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


def paginate(request: HttpRequest, query) -> Page:
    return Paginator(query, PAGE_SIZE).get_page(request.GET.get("page"))


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
