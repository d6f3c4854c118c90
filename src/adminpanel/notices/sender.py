"""Starting the notice sender beside `adminpanel serve` (one small hook, called from serve)."""

import os
import subprocess
import sys

from django.conf import settings


def start() -> subprocess.Popen | None:
    """The sender as a child process that ends when this process (the server) ends.

    Every instance runs one; the outbox's row locks let them share the work without sending
    a notice twice. Nothing starts while no SMTP server is configured.
    """
    if not settings.NOTICES_ENABLED:
        return None
    command = [sys.executable, "-m", "adminpanel.cli", "manage", "send_notices"]
    return subprocess.Popen([*command, "--parent", str(os.getpid())])  # noqa: S603
