"""Small helpers the web views share: pagination and showing a service's Invalid by its field."""

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from adminpanel.errors import Invalid

PAGE_SIZE = 25


def paginate(request: HttpRequest, query) -> Page:
    return Paginator(query, PAGE_SIZE).get_page(request.GET.get("page"))


def show_invalid(form: forms.Form, error: Invalid) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)
