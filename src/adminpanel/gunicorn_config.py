"""gunicorn hooks for `adminpanel serve` (loaded with `--config python:adminpanel.gunicorn_config`).

Only names of gunicorn settings are read from this module, so it holds nothing else.
"""

import errno as _errno
import socket as _socket
import sys as _sys

_WHY = {
    _errno.EADDRINUSE: "the port is in use by another program",
    _errno.EADDRNOTAVAIL: "this machine has no such address",
    _errno.EACCES: "ports below 1024 need privileges",
}


def on_starting(server) -> None:
    """One clear line and exit status 1 when an address cannot be listened on, instead of
    gunicorn's five retries and error lines."""
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a unix socket path: gunicorn reports it itself
        family = _socket.AF_INET6 if ":" in address[0] else _socket.AF_INET
        probe = _socket.socket(family, _socket.SOCK_STREAM)
        probe.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address[:2])
        except OSError as error:
            host = f"[{address[0]}]" if family == _socket.AF_INET6 else address[0]
            why = _WHY.get(error.errno, error.strerror)
            print(
                f"Cannot listen on {host}:{address[1]}: {why}. "
                "Choose another port with --port (make run PORT=…).",
                file=_sys.stderr,
                flush=True,
            )
            _sys.exit(1)
        finally:
            probe.close()
