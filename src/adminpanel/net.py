"""The client's IP address, believing X-Forwarded-For only from trusted proxies."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _trusted(ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(p, strict=False) for p in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    """The nearest address that is not one of our trusted proxies."""
    ip = request.META.get("REMOTE_ADDR", "") or ""
    if not settings.TRUSTED_PROXIES or not _trusted(ip):
        return ip
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return ip
    return ip


def forwarded_scheme(request: HttpRequest) -> str | None:
    """The scheme a trusted proxy names in X-Forwarded-Proto ("https" or "http"), else None."""
    scheme = request.META.get("HTTP_X_FORWARDED_PROTO", "").strip().lower()
    if scheme in ("http", "https") and _trusted(request.META.get("REMOTE_ADDR", "") or ""):
        return scheme
    return None


def ip_allowed(ip: str, allowed: list[str]) -> bool:
    """True when the list is empty (any address) or one entry contains ip."""
    if not allowed:
        return True
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for entry in allowed:
        network = ipaddress.ip_network(entry, strict=False)
        if addr.version == network.version and addr in network:
            return True
    return False
