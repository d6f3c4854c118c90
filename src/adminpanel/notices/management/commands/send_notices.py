"""`adminpanel manage send_notices`: the notice sender (adminpanel serve starts one)."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from adminpanel.notices import services


class Command(BaseCommand):
    help = "Send the notices in the outbox, retrying with backoff, until interrupted."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
        parser.add_argument(
            "--parent", type=int, default=None, help="exit when this process is gone"
        )

    def handle(self, *args, once: bool, interval: float, parent: int | None, **options) -> None:
        if not settings.NOTICES_ENABLED:
            raise CommandError("Notices are off: set ADMINPANEL_SMTP_URL to a mail server.")
        if once:
            self.stdout.write(f"{services.send_due()} notice(s) tried.")
            return
        services.run(
            interval=interval,
            keep_going=lambda: parent is None or os.getppid() == parent,
        )
