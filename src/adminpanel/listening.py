"""Whether an address can be listened on, in words for an operator."""

import errno
import socket

_WHY = {
    errno.EADDRINUSE: "the port is in use by another program",
    errno.EADDRNOTAVAIL: "this machine has no such address",
    errno.EACCES: "ports below 1024 need privileges",
}


def _why_not(host: str, port: int) -> str | None:
    """None when host:port is free to listen on (as servers bind: SO_REUSEADDR), else why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return _WHY.get(error.errno, error.strerror)
    return None


def cannot_listen(host: str, port: int, *, what: str = "", choose: str) -> str | None:
    """One line for the operator when host:port cannot be listened on, else None.

    `what` names the service ("SMTP"), `choose` how to pick another port ("--port …")."""
    why = _why_not(host, port)
    if why is None:
        return None
    shown = f"[{host}]" if ":" in host else host
    service = f" for {what}" if what else ""
    return f"Cannot listen on {shown}:{port}{service}: {why}. Choose another port with {choose}."
