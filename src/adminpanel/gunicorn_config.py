"""gunicorn hooks for `adminpanel serve` (loaded with `--config python:adminpanel.gunicorn_config`).

Only names of gunicorn settings are read from this module, so it holds nothing else.
"""

import sys as _sys

from adminpanel.listening import why_cannot_listen as _why_cannot_listen


def on_starting(server) -> None:
    """One clear line and exit status 1 when an address cannot be listened on, instead of
    gunicorn's five retries and error lines."""
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a unix socket path: gunicorn reports it itself
        why = _why_cannot_listen(address[0], address[1])
        if why:
            host = f"[{address[0]}]" if ":" in address[0] else address[0]
            print(
                f"Cannot listen on {host}:{address[1]}: {why}. "
                "Choose another port with --port (make run PORT=…).",
                file=_sys.stderr,
                flush=True,
            )
            _sys.exit(1)
