"""Domain names and mail addresses: validated, and normalized to one spelling."""

import re

import idna

from adminpanel.errors import Invalid

# RFC 5322's dot-atom without "/": a slash in a local part is a path separator to every mail
# server that stores mail by address (SPEC §16).
LOCAL_PART = re.compile(r"\A[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+)*\Z")


def normalize_domain(raw: object, field: str = "name") -> str:
    """The lower-case IDNA A-label of a domain name, or Invalid."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid(field, "Enter a domain name.")
    text = raw.strip().rstrip(".")
    if len(text) > 253:
        raise Invalid(field, "A domain name has at most 253 characters.")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        raise Invalid(field, f"{text[:80]!r} is not a valid domain name.") from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253:
        raise Invalid(field, "Enter a full domain name, such as example.com.")
    for label in labels:
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", label):
            raise Invalid(field, f"{text[:80]!r} is not a valid domain name.")
    if labels[-1].isdigit():
        raise Invalid(field, "Enter a domain name, not an IP address.")
    return ascii_name


def domain_to_unicode(ascii_name: str) -> str:
    try:
        return idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return ascii_name


def split_address(raw: object, field: str = "address") -> tuple[str, str]:
    """(local part, normalized domain) of an address, or Invalid."""
    if not isinstance(raw, str) or "@" not in raw:
        raise Invalid(field, "Enter an address such as name@example.com.")
    local, _, domain = raw.strip().rpartition("@")
    if not local or len(local) > 64 or not LOCAL_PART.match(local):
        raise Invalid(field, "The part before @ may use letters, digits and . _ + - (up to 64).")
    return local, normalize_domain(domain, field)


def normalize_address(raw: object, field: str = "address") -> str:
    local, domain = split_address(raw, field)
    return f"{local}@{domain}"


def address_to_unicode(address: str) -> str:
    """A stored address as people write it: its domain in Unicode ("info@bücher.example")."""
    local, at, domain = address.rpartition("@")
    return f"{local}{at}{domain_to_unicode(domain)}" if at else address
