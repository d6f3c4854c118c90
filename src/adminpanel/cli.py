"""The `adminpanel` command: serve, reset-2fa, manage (SPEC §9)."""

import argparse
import os
import sys
from contextlib import contextmanager

from adminpanel.notices import sender

# Any constant will do: it names the lock that instances take while they migrate.
STARTUP_LOCK = 0x41444D494E  # "ADMIN"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminpanel.settings")
    import django

    django.setup()


@contextmanager
def _one_instance_at_a_time():
    """Instances starting together on one PostgreSQL database migrate and create the Admin
    one after another (a session-level advisory lock), instead of racing each other."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [STARTUP_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [STARTUP_LOCK])


def serve(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from adminpanel.accounts.services import ensure_admin

    with _one_instance_at_a_time():
        call_command("migrate", interactive=False, verbosity=0)
        username = os.environ.get("ADMINPANEL_ADMIN_USERNAME", "admin")
        admin, generated = ensure_admin(username, os.environ.get("ADMINPANEL_ADMIN_PASSWORD"))
    if generated:
        # Printed once, on the first start only; it is stored only as a hash.
        print(
            f"\n  Created the Admin account.\n  Username: {admin.username}\n"
            f"  Password: {generated}\n  (shown once: keep it safe)\n",
            flush=True,
        )
    host = args.host
    bind = f"[{host}]:{args.port}" if ":" in host else f"{host}:{args.port}"
    print(f"Admin Panel on http://{bind}/ (data: {settings.DATA_DIR})", flush=True)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "adminpanel.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(args.workers),
        "--access-logfile",
        "-",
        "--forwarded-allow-ips",
        ",".join(settings.TRUSTED_PROXIES) or "127.0.0.1",
        "--timeout",
        "60",
        "--graceful-timeout",
        "10",
    ]
    from django.db import connections

    connections.close_all()  # the workers open their own; none leaks through exec
    sender.start()  # notices by e-mail: a child process that ends with the server
    # Each Argon2id hash takes 19 MiB. After the first is freed, glibc raises its mmap threshold
    # and keeps the next ones in the heap for good (+19 MiB RSS per worker); a fixed threshold
    # makes every hash's memory go back to the system when it is done.
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "131072")
    os.execv(sys.executable, argv)
    return 0  # pragma: no cover - exec does not return


def reset_2fa(args: argparse.Namespace) -> int:
    _setup_django()
    from adminpanel.accounts.models import Account
    from adminpanel.twofactor import services

    account = Account.objects.filter(username__iexact=args.username).first()
    if account is None:
        print(f"No account named {args.username!r}.", file=sys.stderr)
        return 1
    services.reset(account, actor_name="operator (command line)")
    print(f"2FA reset for {account.username}: it can log in with its password alone.")
    return 0


def manage(argv: list[str]) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

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
    serve_parser.set_defaults(run=serve)
    reset_parser = commands.add_parser("reset-2fa", help="turn off 2FA for a locked-out account")
    reset_parser.add_argument("username")
    reset_parser.set_defaults(run=reset_2fa)
    commands.add_parser("manage", help="any Django management command")
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
