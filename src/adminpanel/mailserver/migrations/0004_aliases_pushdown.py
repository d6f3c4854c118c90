"""PostgreSQL: mailserver_aliases finds an alias by its index again.

0003 made the view's first branch read `mail_alias.lookup_address` (varchar) while the
catch-all branch builds `'@' || name` (text). PostgreSQL pushes a WHERE into the branches of a
UNION ALL only for columns of one type in every branch, so `WHERE address = '…'` was applied
after building the whole view (every alias, every destination) for each lookup: 36 alias lookups
a second with 2,000 aliases (benchmarks/mailserver.py). With the catch-all's address cast to
varchar, the condition reaches the unique index on lookup_address. The view keeps its name,
columns and types (address was varchar already), and CREATE OR REPLACE keeps the mail role's
grant. SQLite pushes the condition down either way: nothing changes there.
"""

from importlib import import_module

from django.db import migrations

by_index = import_module("adminpanel.mailserver.migrations.0003_aliases_by_index")

BY_INDEX = by_index.ALIASES_BY_INDEX.replace("CREATE VIEW", "CREATE OR REPLACE VIEW")
ONE_TYPE = BY_INDEX.replace(
    "SELECT '@' || d.name AS address,", "SELECT CAST('@' || d.name AS varchar) AS address,"
)
assert ONE_TYPE != BY_INDEX  # noqa: S101 - the view text this migration edits


def _replace(view_sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        destinations = by_index.contract.VENDOR["postgresql"]["destinations"]
        schema_editor.execute(view_sql.replace("DESTINATIONS", destinations), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("mailserver", "0003_aliases_by_index")]

    operations = [migrations.RunPython(_replace(ONE_TYPE), _replace(BY_INDEX))]
