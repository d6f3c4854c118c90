"""The `adminpanel` command: serve, reset-2fa, backup, restore, mailserver-*, manage
(SPEC §9, §10, §13)."""

import argparse
import os
import shutil
import subprocess
import sys

import django
from django.conf import settings
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connections

from adminpanel.mailserver import commands as mailserver_commands
from adminpanel.notices import sender


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminpanel.settings")
    django.setup()


def _url(scheme: str, host: str, port: int) -> str:
    """The address to open: on this machine by the name localhost, where security keys work
    (a browser binds a key to a host name, never to an IP address)."""
    if host in ("127.0.0.1", "::1", "0.0.0.0", "::", "localhost"):  # noqa: S104 - a label
        return f"{scheme}://localhost:{port}/"
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(args: argparse.Namespace) -> int:
    if bool(args.certfile) != bool(args.keyfile):
        print("HTTPS needs both --certfile and --keyfile.", file=sys.stderr)
        return 2
    for path in filter(None, (args.certfile, args.keyfile)):
        if not os.access(path, os.R_OK):
            print(f"Cannot read {path}.", file=sys.stderr)
            return 2
    _setup_django()
    call_command("startup")  # migrate and create the Admin, one instance at a time
    host = args.host
    bind = f"[{host}]:{args.port}" if ":" in host else f"{host}:{args.port}"
    scheme = "https" if args.certfile else "http"
    print(f"Admin Panel on {_url(scheme, host, args.port)} (data: {settings.DATA_DIR})", flush=True)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "adminpanel.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(args.workers),
        # Requests are read by an event loop and handed to Django whole (adminpanel/serving.py).
        "--worker-class",
        "adminpanel.serving.BufferingWorker",
        "--config",
        "python:adminpanel.gunicorn_config",
        "--no-control-socket",  # nobody asked for ~/.gunicorn/gunicorn.ctl
        "--timeout",
        "60",
        "--graceful-timeout",
        "10",
    ]
    if args.unix_socket:
        # Besides host:port (health checks and /metrics on loopback): a socket for a proxy on
        # this host, mode 0660 (umask 0117), whose X-Forwarded-* `ADMINPANEL_TRUSTED_PROXIES=unix`
        # believes while any local process may connect to the TCP port.
        argv += ["--bind", f"unix:{args.unix_socket}", "--umask", str(0o117)]
    if args.certfile:
        argv += ["--certfile", args.certfile, "--keyfile", args.keyfile]
    connections.close_all()  # the workers open their own; none leaks through exec
    sender.start()  # notices by e-mail: a child process that ends with the server
    # Mail-app logins the mail hosts reported: into the Logs and "last used" (same lifetime).
    subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "adminpanel.cli", "manage", "record_mail_logins"]
        + ["--parent", str(os.getpid())]
    )
    # Each Argon2id hash takes 19 MiB. After the first is freed, glibc raises its mmap threshold
    # and keeps the next ones in the heap for good (+19 MiB RSS per worker); a fixed threshold
    # makes every hash's memory go back to the system when it is done.
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "131072")
    # Each worker counts its metrics into files here; /metrics adds them up. A new start begins
    # at zero, as Prometheus expects of a restarted process.
    metrics_dir = settings.DATA_DIR / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(mode=0o700, parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    os.execv(sys.executable, argv)
    return 0  # pragma: no cover - exec does not return


def reset_2fa(args: argparse.Namespace) -> int:
    _setup_django()
    try:
        call_command("reset_2fa", args.username)
    except CommandError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def manage(argv: list[str]) -> int:
    _setup_django()
    execute_from_command_line(["adminpanel manage", *argv])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["manage"]:
        return manage(argv[1:])
    parser = argparse.ArgumentParser(prog="adminpanel", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser(
        "serve", help="migrate, create the Admin, serve with gunicorn"
    )
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=2)
    serve_parser.add_argument(
        "--unix-socket",
        metavar="PATH",
        help="also listen on this Unix socket (mode 0660), for a reverse proxy on this host",
    )
    serve_parser.add_argument("--certfile", help="serve HTTPS with this PEM certificate (chain)")
    serve_parser.add_argument("--keyfile", help="the certificate's private key (PEM)")
    serve_parser.set_defaults(run=serve)
    reset_parser = commands.add_parser("reset-2fa", help="turn off 2FA for a locked-out account")
    reset_parser.add_argument("username")
    reset_parser.set_defaults(run=reset_2fa)
    backup_parser = commands.add_parser(
        "backup", help="write the database and the data dir's keys into one archive"
    )
    backup_parser.add_argument("file")
    backup_parser.set_defaults(run=lambda args: manage(["backup", args.file]))
    restore_parser = commands.add_parser(
        "restore", help="bring a backup back (--force to replace a database holding data)"
    )
    restore_parser.add_argument("file")
    restore_parser.add_argument("--force", action="store_true")
    restore_parser.set_defaults(
        run=lambda args: manage(["restore", args.file, *(["--force"] if args.force else [])])
    )
    mailserver_commands.add_parsers(commands, _setup_django)
    commands.add_parser("manage", help="any Django management command")
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
