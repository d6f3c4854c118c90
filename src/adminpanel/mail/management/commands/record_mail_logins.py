"""`adminpanel manage record_mail_logins`: the mail hosts' login reports into the Logs and the
app passwords' "last used" (adminpanel serve starts one beside the server)."""

import logging
import os
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections

from adminpanel.mail import app_passwords

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Fold the mail logins the auth policy server kept into the Logs, until interrupted."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="fold what is there, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
        parser.add_argument(
            "--parent", type=int, default=None, help="exit when this process is gone"
        )

    def handle(self, *args, once: bool, interval: float, parent: int | None, **options) -> None:
        if once:
            folded = 0
            while batch := app_passwords.record_mail_logins():
                folded += batch
            self.stdout.write(f"{folded} mail login(s) recorded.")
            return
        away = False
        while parent is None or os.getppid() == parent:
            try:
                while app_passwords.record_mail_logins():
                    pass
                away = False
            except DatabaseError as error:
                # The database is away (restart, failover): again with a new connection. Said
                # once per outage, in one line, not every round.
                if not away:
                    logger.warning("mail logins: database unavailable (%s), retrying", error)
                away = True
                connections.close_all()
            time.sleep(interval)
