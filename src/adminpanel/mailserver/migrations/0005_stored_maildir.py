"""mailserver_mailboxes.maildir reads the path stored with each mailbox (mail 0003) instead of
deriving it from the address. Same names, same columns, same types (maildir stays text, so
PostgreSQL's CREATE OR REPLACE keeps the mail role's grant); SQLite, whose views mail 0003
dropped, gets all three again."""

from importlib import import_module

from django.db import migrations

contract = import_module("adminpanel.mailserver.migrations.0002_contract_views")
pushdown = import_module("adminpanel.mailserver.migrations.0004_aliases_pushdown")

DERIVED = "d.name || '/' || lower(m.local_part) || '/' AS maildir"
STORED = "CAST(m.maildir AS text) AS maildir"
assert DERIVED in contract.MAILBOXES  # noqa: S101 - the view text this migration edits


def mailboxes_view(vendor: str, maildir: str) -> str:
    view = contract.MAILBOXES.replace("CREATE VIEW", "CREATE OR REPLACE VIEW")
    if vendor == "sqlite":
        view = contract.MAILBOXES  # SQLite has no CREATE OR REPLACE; the view is gone here
    view = view.replace("PASSWORD AS", contract.PASSWORD + " AS")
    view = view.replace("QUOTA_BYTES", contract.VENDOR[vendor]["quota_bytes"])
    return view.replace(DERIVED, maildir)


def _views(maildir: str):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            for view in contract.VIEWS:
                schema_editor.execute(f"DROP VIEW IF EXISTS {view}", params=None)
            schema_editor.execute(contract.DOMAINS, params=None)
            destinations = contract.VENDOR[vendor]["destinations"]
            aliases = pushdown.by_index.ALIASES_BY_INDEX.replace("DESTINATIONS", destinations)
            schema_editor.execute(aliases, params=None)
        schema_editor.execute(mailboxes_view(vendor, maildir), params=None)

    return run


STORED_VIEWS = _views(STORED)


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0003_mailbox_maildir"),
        ("mailserver", "0004_aliases_pushdown"),
    ]

    operations = [migrations.RunPython(STORED_VIEWS, _views(DERIVED))]
