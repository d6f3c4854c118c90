"""Request bodies: strict UTF-8 JSON, no NUL characters, no lone surrogates, bounded nesting.

Anything else is refused with a 400 before a schema or a service sees it, so that no database
driver ever meets a string it cannot store (PostgreSQL refuses NUL, UTF-8 refuses surrogates).
"""

import json

from django.http import HttpRequest
from ninja.parser import Parser

from adminpanel.api.errors import ApiError

MAX_DEPTH = 32


def _refuse(message: str) -> ApiError:
    return ApiError(400, "malformed_json", message)


def _constant(name: str) -> object:
    raise _refuse(f"{name} is not JSON.")


def check_value(value: object) -> None:
    """Walk a parsed JSON value without recursion; refuse what no field may hold."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _refuse(f"The body is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(item, str):
            strings = [item]
        elif isinstance(item, dict):
            strings = list(item)
            pending.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            strings = []
            pending.extend((v, depth + 1) for v in item)
        else:
            continue
        for text in strings:
            if "\x00" in text:
                raise _refuse("The body contains a NUL character.")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise _refuse("The body contains a lone surrogate (not Unicode text).") from None


class StrictJsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict:
        try:
            data = json.loads(request.body.decode("utf-8"), parse_constant=_constant)
        except UnicodeDecodeError:
            raise _refuse("The body is not UTF-8.") from None
        except RecursionError:
            raise _refuse(f"The body is nested more than {MAX_DEPTH} levels deep.") from None
        except ValueError as error:
            raise _refuse(f"The body is not valid JSON ({str(error)[:100]}).") from None
        check_value(data)
        return data
