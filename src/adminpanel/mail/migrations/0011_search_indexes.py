"""Trigram indexes for the Users and Aliases searches on PostgreSQL (issue 20: 100,000
mailboxes): a search "contains" is `UPPER(column::text) LIKE UPPER('%term%')` (Django's
icontains), which a trigram index on that very expression answers without reading every row.
pg_trgm ships with PostgreSQL and is a trusted extension: the database's owner may create it.
SQLite has no such index; it reads its rows, which it does fast enough at that size."""

from django.db import migrations

INDEXES = {
    "mailbox_local_part_trgm": ("mail_mailbox", "local_part"),
    "mailbox_display_name_trgm": ("mail_mailbox", "display_name"),
    "alias_local_part_trgm": ("mail_alias", "local_part"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("mail", "0010_list_indexes")]

    operations = [migrations.RunPython(create, drop)]
