"""A private Postfix + Dovecot (the code of `adminpanel mailserver-run`) on the tests' database,
in a temp dir of its own, stopped and removed afterwards: the session's and each module's own."""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from adminpanel.mailserver.config import Database
from adminpanel.mailserver.instance import PrivateMailServer
from testbed.postgres import free_port


@contextmanager
def private_mail_server(django_db_blocker, prefix: str, **options) -> Iterator[PrivateMailServer]:
    """Started on free loopback ports; `options` as PrivateMailServer takes them."""
    with django_db_blocker.unblock():
        database = Database.of(connection.settings_dict)
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    server = PrivateMailServer(
        directory, database, smtp_port=free_port(), imap_port=free_port(), **options
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
