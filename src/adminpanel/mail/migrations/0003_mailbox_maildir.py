"""Each mailbox keeps the maildir it was given (SPEC §10, §16): the view mailserver_mailboxes
used to derive it from the address, so a mailbox re-created at a deleted address opened the
previous owner's mail. Existing mailboxes keep the path they had ("domain/local_part/", no
mail moves); new ones get mail.maildirs.new_maildir's. The one exception: a local part with
"/" (refused from now on) had its maildir inside another mailbox's ("a/.Sent@d" in "a@d"'s Sent
folder), so such a mailbox gets a maildir of its own from here on."""

import re
import secrets
from importlib import import_module

from django.db import migrations, models

VIEWS = ("mailserver_aliases", "mailserver_mailboxes", "mailserver_domains")


def drop_views_on_sqlite(apps, schema_editor):
    # SQLite rebuilds the table to change it, which its views forbid: mailserver 0005 creates
    # them again. PostgreSQL alters the table in place and keeps the views (and their grants).
    if schema_editor.connection.vendor == "sqlite":
        for view in VIEWS:
            schema_editor.execute(f"DROP VIEW IF EXISTS {view}", params=None)


def stored_maildir_views(apps, schema_editor):
    """Going back from mail 0004: the views as mailserver 0005 left them."""
    if schema_editor.connection.vendor == "sqlite":
        import_module("adminpanel.mailserver.migrations.0005_stored_maildir").STORED_VIEWS(
            apps, schema_editor
        )


def previous_views_on_sqlite(apps, schema_editor):
    """Going back: the views as mailserver 0004 left them."""
    if schema_editor.connection.vendor == "sqlite":
        import_module("adminpanel.mailserver.migrations.0003_aliases_by_index").create_views(
            apps, schema_editor
        )


def keep_existing_paths(apps, schema_editor):
    Mailbox = apps.get_model("mail", "Mailbox")
    for mailbox in Mailbox.objects.select_related("domain").iterator():
        local = mailbox.local_part.lower()
        if "/" in local:
            local = re.sub(r"[^a-z0-9._+-]", "_", local).strip(".") + "." + secrets.token_hex(8)
        mailbox.maildir = f"{mailbox.domain.name}/{local}/"
        mailbox.save(update_fields=["maildir"])


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0002_alias_lookup_address"),
        ("mailserver", "0004_aliases_pushdown"),
    ]

    operations = [
        migrations.RunPython(drop_views_on_sqlite, previous_views_on_sqlite),
        migrations.AddField(
            model_name="mailbox",
            name="maildir",
            field=models.CharField(max_length=200, null=True),
        ),
        migrations.RunPython(keep_existing_paths, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="mailbox",
            name="maildir",
            field=models.CharField(editable=False, max_length=200, unique=True),
        ),
        # Going back, mailserver 0005 has made the views again before this table is rebuilt.
        migrations.RunPython(migrations.RunPython.noop, drop_views_on_sqlite),
    ]
