"""Migrations keep people's mail where it is (SPEC §16): mailboxes made before maildirs were
stored keep the path the view used to derive, except where that path lay inside another
mailbox's maildir."""

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.migrating import migrate

BEFORE = [("mail", "0002_alias_lookup_address"), ("mailserver", "0004_aliases_pushdown")]
AFTER = [("mail", "0003_mailbox_maildir"), ("mailserver", "0005_stored_maildir")]


@pytest.mark.django_db(transaction=True)
def test_existing_mailboxes_keep_their_maildir_and_a_nested_one_gets_its_own():
    apps = migrate(BEFORE)
    try:
        Domain, Mailbox = apps.get_model("mail", "Domain"), apps.get_model("mail", "Mailbox")
        domain = Domain.objects.create(name="old.example")
        for local in ["Alice", "a", "a/.Sent"]:
            Mailbox.objects.create(local_part=local, domain=domain, password_hash="!")

        migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT local_part, maildir FROM mailserver_mailboxes ORDER BY 1")
            maildirs = dict(cursor.fetchall())
    finally:
        migrate(_leaves())
    assert maildirs["alice"] == "old.example/alice/"
    assert maildirs["a"] == "old.example/a/"
    assert re.fullmatch(r"old\.example/a_\.sent\.[0-9a-f]{16}/", maildirs["a/.sent"])


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
