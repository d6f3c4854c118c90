"""The three views the mail servers read (SPEC §10). Their names and columns are a contract:
operators write their own queries against them, so change them only by adding columns."""

from django.db import migrations

# Django's Argon2 hashes read "argon2$argon2id$v=19$m=…"; Dovecot's {ARGON2ID} scheme verifies
# the same PHC string once the 6-character "argon2" prefix is replaced. Any other stored form
# (an unusable "!…" password) gives NULL: no password, no login.
PASSWORD = (
    "CASE WHEN m.password_hash LIKE 'argon2$argon2id$%' "
    "THEN '{ARGON2ID}' || substr(m.password_hash, 7) END"
)

DOMAINS = """
CREATE VIEW mailserver_domains AS
SELECT d.name AS domain, d.active AS active FROM mail_domain d
"""

MAILBOXES = """
CREATE VIEW mailserver_mailboxes AS
SELECT lower(m.local_part) || '@' || d.name AS address,
       lower(m.local_part) AS local_part,
       d.name AS domain,
       PASSWORD AS password,
       QUOTA_BYTES AS quota_bytes,
       d.name || '/' || lower(m.local_part) || '/' AS maildir,
       (m.active AND d.active) AS active
FROM mail_mailbox m JOIN mail_domain d ON d.id = m.domain_id
"""

# One row per destination; a domain's catch-all is the row whose address is "@domain".
ALIASES = """
CREATE VIEW mailserver_aliases AS
SELECT lower(a.local_part) || '@' || d.name AS address,
       lower(t.value) AS destination,
       (a.active AND d.active) AS active
FROM mail_alias a JOIN mail_domain d ON d.id = a.domain_id, DESTINATIONS AS t
UNION ALL
SELECT '@' || d.name AS address, lower(d.catch_all) AS destination, d.active AS active
FROM mail_domain d WHERE d.catch_all <> ''
"""

VENDOR = {
    "postgresql": {
        "quota_bytes": "m.quota_mb::bigint * 1048576",
        "destinations": "jsonb_array_elements_text(a.destinations)",
    },
    "sqlite": {
        "quota_bytes": "m.quota_mb * 1048576",
        "destinations": "json_each(a.destinations)",
    },
}

VIEWS = ["mailserver_aliases", "mailserver_mailboxes", "mailserver_domains"]


def create_views(apps, schema_editor):
    # params=None: the SQL holds literal % signs, which must not be read as placeholders.
    parts = VENDOR[schema_editor.connection.vendor]
    schema_editor.execute(DOMAINS, params=None)
    mailboxes = MAILBOXES.replace("PASSWORD AS", PASSWORD + " AS")
    schema_editor.execute(mailboxes.replace("QUOTA_BYTES", parts["quota_bytes"]), params=None)
    schema_editor.execute(ALIASES.replace("DESTINATIONS", parts["destinations"]), params=None)


def drop_views(apps, schema_editor):
    for view in VIEWS:
        schema_editor.execute(f"DROP VIEW IF EXISTS {view}", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0001_initial"),
        ("mailserver", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_views, drop_views)]
