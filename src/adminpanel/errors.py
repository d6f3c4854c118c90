"""Exceptions services raise for input a person can fix; translated at the edge."""


class Invalid(Exception):
    """`message` is what the person reads, next to `field` ("" for the whole form)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class NotFound(Exception):
    pass
