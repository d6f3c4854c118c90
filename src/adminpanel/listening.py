"""Whether an address can be listened on, in words for an operator."""

import errno
import socket

_WHY = {
    errno.EADDRINUSE: "the port is in use by another program",
    errno.EADDRNOTAVAIL: "this machine has no such address",
    errno.EACCES: "ports below 1024 need privileges",
}


def why_cannot_listen(host: str, port: int) -> str | None:
    """None when host:port is free to listen on (as servers bind: SO_REUSEADDR), else why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return _WHY.get(error.errno, error.strerror)
    return None
