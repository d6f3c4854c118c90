"""`adminpanel manage startup`: what `adminpanel serve` does before it starts gunicorn."""

import os
from contextlib import contextmanager

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from adminpanel.accounts.services import ensure_admin

# Any constant will do: it names the lock that instances take while they migrate.
STARTUP_LOCK = 0x41444D494E  # "ADMIN"


@contextmanager
def _one_instance_at_a_time():
    """Instances starting together on one PostgreSQL database migrate and create the Admin
    one after another (a session-level advisory lock), instead of racing each other."""
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


class Command(BaseCommand):
    help = "Migrate the database and create the Admin on the first start."

    def handle(self, *args, **options) -> None:
        with _one_instance_at_a_time():
            call_command("migrate", interactive=False, verbosity=0)
            username = os.environ.get("ADMINPANEL_ADMIN_USERNAME", "admin")
            password = os.environ.get("ADMINPANEL_ADMIN_PASSWORD")
            admin, generated = ensure_admin(username, password)
        if generated:
            # Printed once, on the first start only; it is stored only as a hash.
            self.stdout.write(
                f"\n  Created the Admin account.\n  Username: {admin.username}\n"
                f"  Password: {generated}\n  (shown once: keep it safe)\n\n",
                ending="",
            )
            self.stdout.flush()
