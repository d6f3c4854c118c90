"""gunicorn hooks for `adminpanel serve` (loaded with `--config python:adminpanel.gunicorn_config`).

Only names of gunicorn settings are read from this module, so it holds nothing else.
"""

import sys as _sys

from adminpanel.listening import cannot_listen as _cannot_listen


def on_starting(server) -> None:
    """One clear line and exit status 1 when an address cannot be listened on, instead of
    gunicorn's five retries and error lines."""
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a unix socket path: gunicorn reports it itself
        line = _cannot_listen(address[0], address[1], choose="--port (make run PORT=…)")
        if line:
            print(line, file=_sys.stderr, flush=True)
            _sys.exit(1)
