"""Each mailbox keeps the maildir it was given (SPEC §10, §16): the view mailserver_mailboxes
used to derive it from the address, so a mailbox re-created at a deleted address opened the
previous owner's mail. Existing mailboxes keep the path they had ("domain/local_part/", no
mail moves); new ones get mail.maildirs.new_maildir's."""

from django.db import migrations, models


def drop_views_on_sqlite(apps, schema_editor):
    # SQLite rebuilds the table to change it, which its views forbid: mailserver 0005 creates
    # them again. PostgreSQL alters the table in place and keeps the views (and their grants).
    if schema_editor.connection.vendor == "sqlite":
        for view in ("mailserver_aliases", "mailserver_mailboxes", "mailserver_domains"):
            schema_editor.execute(f"DROP VIEW IF EXISTS {view}", params=None)


def keep_existing_paths(apps, schema_editor):
    Mailbox = apps.get_model("mail", "Mailbox")
    for mailbox in Mailbox.objects.select_related("domain").iterator():
        mailbox.maildir = f"{mailbox.domain.name}/{mailbox.local_part.lower()}/"
        mailbox.save(update_fields=["maildir"])


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0002_alias_lookup_address"),
        ("mailserver", "0004_aliases_pushdown"),
    ]

    operations = [
        migrations.RunPython(drop_views_on_sqlite, migrations.RunPython.noop),
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
    ]
