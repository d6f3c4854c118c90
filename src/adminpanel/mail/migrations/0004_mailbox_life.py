"""A mailbox's life (SPEC §16): Sign-in allowed, and delete with a grace period. A deleted
mailbox keeps its row (and id, and maildir) until its mail is purged; its address may be taken
again meanwhile, so the address is unique among live mailboxes only."""

from importlib import import_module

import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.manager
from django.db import migrations, models

maildir_migration = import_module("adminpanel.mail.migrations.0003_mailbox_maildir")


class Migration(migrations.Migration):
    dependencies = [("mail", "0003_mailbox_maildir"), ("mailserver", "0005_stored_maildir")]

    operations = [
        # SQLite rebuilds the table, which its views forbid: mailserver 0006 makes them again.
        migrations.RunPython(
            maildir_migration.drop_views_on_sqlite, maildir_migration.stored_maildir_views
        ),
        migrations.AlterModelOptions(
            name="mailbox",
            options={
                "base_manager_name": "with_deleted",
                "default_manager_name": "objects",
                "ordering": ["domain__name", "local_part"],
            },
        ),
        migrations.AlterModelManagers(
            name="mailbox",
            managers=[
                ("with_deleted", django.db.models.manager.Manager()),
                ("objects", django.db.models.manager.Manager()),
            ],
        ),
        migrations.RemoveConstraint(model_name="mailbox", name="mailbox_address_unique"),
        migrations.AddField(
            model_name="mailbox",
            name="deleted_address",
            field=models.CharField(blank=True, max_length=320),
        ),
        migrations.AddField(
            model_name="mailbox",
            name="deleted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="mailbox",
            name="purge_after",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="mailbox",
            name="sign_in_allowed",
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="mailbox",
            name="domain",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="mailboxes",
                to="mail.domain",
            ),
        ),
        migrations.AddConstraint(
            model_name="mailbox",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("local_part"),
                models.F("domain"),
                condition=models.Q(("deleted_at__isnull", True)),
                name="mailbox_address_unique",
            ),
        ),
        migrations.RunPython(
            migrations.RunPython.noop, maildir_migration.drop_views_on_sqlite
        ),
    ]
