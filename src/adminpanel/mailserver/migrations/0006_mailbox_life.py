"""mailserver_mailboxes after a mailbox's life came in (SPEC §10, §16):

- a deleted mailbox leaves the view at once (its row waits in mail_mailbox for the purge);
- a new column at the end, `sign_in_allowed`: Dovecot's passdb asks for it, so a mailbox with
  sign-in off still receives mail but no password opens it;
- a new view, `mailserver_purge(maildir)`: the maildirs of deleted mailboxes whose grace period
  is over, which the mail host removes (mailserver.purge) and records in the new table
  `mailserver_purged`;
- `password` also hands over a hash imported in Dovecot's own form (`{SHA512-CRYPT}$6$…`): the
  panel stores only schemes it checked (mail.services), never a plain one.

The view is written out whole here. PostgreSQL's CREATE OR REPLACE may add a column at the end
and keeps the mail role's grant; SQLite, whose views mail 0004 dropped, gets all three again.
"""

from importlib import import_module

from django.db import migrations, models

contract = import_module("adminpanel.mailserver.migrations.0002_contract_views")
by_index = import_module("adminpanel.mailserver.migrations.0003_aliases_by_index")
stored = import_module("adminpanel.mailserver.migrations.0005_stored_maildir")

MAILBOXES = """
CREATE OR REPLACE VIEW mailserver_mailboxes AS
SELECT lower(m.local_part) || '@' || d.name AS address,
       lower(m.local_part) AS local_part,
       d.name AS domain,
       CASE WHEN m.password_hash LIKE 'argon2$argon2id$%' THEN '{ARGON2ID}' || substr(m.password_hash, 7)
            WHEN m.password_hash LIKE '{%}%' THEN m.password_hash END AS password,
       QUOTA_BYTES AS quota_bytes,
       CAST(m.maildir AS text) AS maildir,
       (m.active AND d.active) AS active,
       m.sign_in_allowed AS sign_in_allowed
FROM mail_mailbox m JOIN mail_domain d ON d.id = m.domain_id
WHERE m.deleted_at IS NULL
"""


PURGE = """
CREATE VIEW mailserver_purge AS
SELECT CAST(m.maildir AS text) AS maildir FROM mail_mailbox m
WHERE m.deleted_at IS NOT NULL AND m.purge_after <= CURRENT_TIMESTAMP
  AND NOT EXISTS (SELECT 1 FROM mailserver_purged p WHERE p.maildir = m.maildir)
"""


def create_views(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    view = MAILBOXES.replace("QUOTA_BYTES", contract.VENDOR[vendor]["quota_bytes"])
    if vendor == "sqlite":
        for name in contract.VIEWS:
            schema_editor.execute(f"DROP VIEW IF EXISTS {name}", params=None)
        schema_editor.execute(contract.DOMAINS, params=None)
        aliases = by_index.ALIASES_BY_INDEX.replace(
            "DESTINATIONS", contract.VENDOR[vendor]["destinations"]
        )
        schema_editor.execute(aliases, params=None)
        view = view.replace("CREATE OR REPLACE VIEW", "CREATE VIEW")
    schema_editor.execute(view, params=None)
    schema_editor.execute(PURGE, params=None)


def previous_views(apps, schema_editor):
    schema_editor.execute("DROP VIEW mailserver_purge", params=None)
    # A column cannot be taken out of a view in place: the old one is made anew.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP VIEW mailserver_mailboxes", params=None)
    stored.STORED_VIEWS(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("mail", "0004_mailbox_life"), ("mailserver", "0005_stored_maildir")]

    operations = [
        migrations.CreateModel(
            name="PurgedMaildir",
            fields=[
                ("maildir", models.CharField(max_length=200, primary_key=True, serialize=False)),
                ("purged_at", models.DateTimeField()),
            ],
            options={"db_table": "mailserver_purged"},
        ),
        migrations.RunPython(create_views, previous_views),
    ]
