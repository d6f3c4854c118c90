"""Small helpers the web views share: pagination and showing a service's Invalid by its field."""

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from adminpanel.errors import Invalid

PAGE_SIZE = 25
MAX_SEARCH = 200


def search_query(request: HttpRequest) -> str:
    """The list's search box (`?q=`): NUL characters dropped (no stored text holds one, and
    PostgreSQL refuses them in a query), at most 200 characters."""
    return request.GET.get("q", "").replace("\x00", "")[:MAX_SEARCH]


def paginate(request: HttpRequest, query) -> Page:
    return Paginator(query, PAGE_SIZE).get_page(request.GET.get("page"))


def show_invalid(form: forms.Form, error: Invalid) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)
