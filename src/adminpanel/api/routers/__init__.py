"""Thin routers: parse with a schema, call one service or selector, shape the answer.

Exceptions are not caught here; adminpanel.api.errors translates every one of them.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from adminpanel.accounts.models import Account
from adminpanel.pages import ByDomain, window

# The error statuses routes declare (OpenAPI), beyond their success bodies. Any request may
# meet 400 (unreadable body or query), 401/403 (token), 413 (body over 1 MB) and 422 (input).
ANY = (400, 401, 403, 413, 422)
ITEM = (*ANY, 404)


def actor(request: HttpRequest) -> Account:
    """The account behind the request's bearer token (set by adminpanel.api.auth)."""
    return request.auth.account  # type: ignore[attr-defined]


def page(
    query: QuerySet | ByDomain, *, limit: int, offset: int, shape: Callable[[Any], Any]
) -> dict:
    """One page of a list, with the total count, for the *Page schemas."""
    total = query.count()
    rows = window(query, offset, offset + limit) if offset < total else []
    items = [shape(row) for row in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
