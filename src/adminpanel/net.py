"""The client's IP address, believing X-Forwarded-For only from trusted proxies.

A trusted proxy is an address or CIDR range of ADMINPANEL_TRUSTED_PROXIES, or `unix`: a request
that came over `serve --unix-socket` (a proxy on this host, without believing every local
process that can reach a loopback port).
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNIX_SOCKET = "adminpanel.unix_socket"  # WSGI environ: True for a request over a Unix socket
OVER_UNIX_SOCKET = "unix"  # the ADMINPANEL_TRUSTED_PROXIES entry that trusts the socket


def _trusted(ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(
        addr in ipaddress.ip_network(p, strict=False)
        for p in settings.TRUSTED_PROXIES
        if p != OVER_UNIX_SOCKET
    )


def _from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the peer that sent this request is a trusted proxy."""
    if request.META.get(UNIX_SOCKET):
        return OVER_UNIX_SOCKET in settings.TRUSTED_PROXIES
    return _trusted(request.META.get("REMOTE_ADDR", "") or "")


def client_ip(request: HttpRequest) -> str:
    """The nearest address that is not one of our trusted proxies."""
    ip = request.META.get("REMOTE_ADDR", "") or ""
    if not settings.TRUSTED_PROXIES or not _from_trusted_proxy(request):
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
    if scheme in ("http", "https") and _from_trusted_proxy(request):
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
