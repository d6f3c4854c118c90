"""The product's own exceptions, raised by services and translated at the edge.

`Refused` is the one answer "no" of every rule (password step, code check, setup, token):
the web renders it with `adminpanel.pages.render_refused`, the API with one handler in
`adminpanel.api.errors`.
"""

from django.http import Http404

# Reasons that mean "wait": the web answers 429 for them (the API's statuses are in api.errors).
THROTTLED = frozenset({"too_many_attempts", "throttled"})


class Refused(Exception):
    """A rule said no. `reason` is a stable code (the API's `error`), `message` what a person
    reads, `retry_after` the seconds to wait when the refusal earned a wait."""

    def __init__(self, reason: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    @property
    def throttled(self) -> bool:
        return self.reason in THROTTLED


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
