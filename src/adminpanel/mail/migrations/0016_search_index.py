"""SQLite's index for the Users and Aliases searches (issue 20, mail.search): full-text tables
with the trigram tokenizer beside mail_mailbox and mail_alias, filled from their rows and kept
in step by triggers. PostgreSQL keeps its trigram indexes (0011): nothing happens there."""

from django.db import migrations

from adminpanel.mail import search


def create(apps, schema_editor):
    search.create(schema_editor)


def drop(apps, schema_editor):
    search.drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("mail", "0015_list_window_indexes")]

    operations = [migrations.RunPython(create, drop)]
