"""Exceptions services raise for input a person can fix; translated at the edge."""

from django.http import Http404


class Invalid(Exception):
    """`message` is what the person reads, next to `field` ("" for the whole form)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class NotFound(Http404):
    """No such object (or not one this account may see): the 404 page, or 404 JSON."""


def get_by_id(query, pk: object):
    """The object of `query` with this id, or NotFound for anything else a client may send."""
    try:
        number = int(str(pk))
    except (TypeError, ValueError):
        raise NotFound() from None
    found = query.filter(pk=number).first() if 0 < number < 2**63 else None
    if found is None:
        raise NotFound()
    return found
