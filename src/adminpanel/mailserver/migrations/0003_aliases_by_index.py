"""The three views again (mail 0002 dropped them to rebuild mail_alias on SQLite), with
mailserver_aliases reading the alias's indexed lookup_address: same names, same columns."""

from importlib import import_module

from django.db import migrations

contract = import_module("adminpanel.mailserver.migrations.0002_contract_views")

ALIASES_BY_INDEX = contract.ALIASES.replace(
    "SELECT lower(a.local_part) || '@' || d.name AS address,",
    "SELECT a.lookup_address AS address,",
)


def create_views(apps, schema_editor):
    for view in contract.VIEWS:
        schema_editor.execute(f"DROP VIEW IF EXISTS {view}", params=None)
    destinations = contract.VENDOR[schema_editor.connection.vendor]["destinations"]
    contract.create_views(apps, schema_editor)
    schema_editor.execute("DROP VIEW mailserver_aliases", params=None)
    aliases = ALIASES_BY_INDEX.replace("DESTINATIONS", destinations)
    schema_editor.execute(aliases, params=None)


def previous_views(apps, schema_editor):
    for view in contract.VIEWS:
        schema_editor.execute(f"DROP VIEW IF EXISTS {view}", params=None)
    contract.create_views(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0002_alias_lookup_address"),
        ("mailserver", "0002_contract_views"),
    ]

    operations = [migrations.RunPython(create_views, previous_views)]
