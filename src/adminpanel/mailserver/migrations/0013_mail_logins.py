"""App passwords at the mail servers (SPEC §14, issue 22):

- `mailbox_owners_with_2fa(mailbox_id)`: the mailboxes whose owner has two-factor
  authentication. The ONE place the mail servers learn it: owners have no 2FA yet, so it has no
  rows; when they do, a migration replaces this view (same column) by a query on the 2FA tables.
- `mailserver_mailboxes` gains `mail_apps_may_use_password` (at the end): the domain lets mail
  apps use the mailbox password and the owner has no 2FA. Dovecot's mailbox-password passdb
  asks for it.
- `mailserver_app_passwords(address, app_password_id, secret_sha256, active)`: one row per
  live app password and spelling (no separators, dashes, spaces); Dovecot finds a row by the
  keyed SHA-256 it computes of the typed password. A revoked one has no row.
- `mailserver_mail_logins`: each login Dovecot reports to the auth policy server (the mail role
  may add rows); `mailserver_ip_auth_failures`: the guessing limit per client IP.
"""

from importlib import import_module

from django.db import migrations, models

contract = import_module("adminpanel.mailserver.migrations.0002_contract_views")
life = import_module("adminpanel.mailserver.migrations.0006_mailbox_life")

OWNERS_WITH_2FA = """
CREATE VIEW mailbox_owners_with_2fa AS
SELECT m.id AS mailbox_id FROM mail_mailbox m WHERE 1 = 0
"""

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
       m.sign_in_allowed AS sign_in_allowed,
       (d.mail_apps_may_use_mailbox_password
        AND NOT EXISTS (SELECT 1 FROM mailbox_owners_with_2fa t WHERE t.mailbox_id = m.id))
         AS mail_apps_may_use_password
FROM mail_mailbox m JOIN mail_domain d ON d.id = m.domain_id
WHERE m.deleted_at IS NULL
"""

# Each branch is one unique index probe on its digest; the address is checked on the row found.
APP_PASSWORDS = """
CREATE VIEW mailserver_app_passwords AS
SELECT lower(m.local_part) || '@' || d.name AS address,
       s.id AS app_password_id,
       s.secret_sha256 AS secret_sha256,
       (m.active AND d.active AND m.sign_in_allowed) AS active
FROM (SELECT id, mailbox_id, digest_plain AS secret_sha256 FROM mail_apppassword
      WHERE revoked_at IS NULL
      UNION ALL
      SELECT id, mailbox_id, digest_dashes FROM mail_apppassword WHERE revoked_at IS NULL
      UNION ALL
      SELECT id, mailbox_id, digest_spaces FROM mail_apppassword WHERE revoked_at IS NULL) s
JOIN mail_mailbox m ON m.id = s.mailbox_id
JOIN mail_domain d ON d.id = m.domain_id
WHERE m.deleted_at IS NULL
"""


def create_views(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(OWNERS_WITH_2FA, params=None)
    view = MAILBOXES.replace("QUOTA_BYTES", contract.VENDOR[vendor]["quota_bytes"])
    if vendor == "sqlite":
        schema_editor.execute("DROP VIEW mailserver_mailboxes", params=None)
        view = view.replace("CREATE OR REPLACE VIEW", "CREATE VIEW")
    schema_editor.execute(view, params=None)
    schema_editor.execute(APP_PASSWORDS, params=None)


def previous_views(apps, schema_editor):
    schema_editor.execute("DROP VIEW mailserver_app_passwords", params=None)
    # A column cannot be taken out of a view in place: the previous one is made anew.
    schema_editor.execute("DROP VIEW mailserver_mailboxes", params=None)
    vendor = schema_editor.connection.vendor
    view = life.MAILBOXES.replace("QUOTA_BYTES", contract.VENDOR[vendor]["quota_bytes"])
    schema_editor.execute(view.replace("CREATE OR REPLACE VIEW", "CREATE VIEW"), params=None)
    schema_editor.execute("DROP VIEW mailbox_owners_with_2fa", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0008_app_passwords"),
        ("mailserver", "0012_auth_failures"),
    ]

    operations = [
        migrations.CreateModel(
            name="IpAuthFailures",
            fields=[
                ("ip", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("failures", models.IntegerField()),
                ("last_failure", models.BigIntegerField()),
            ],
            options={
                "db_table": "mailserver_ip_auth_failures",
            },
        ),
        migrations.CreateModel(
            name="MailLogin",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.BigIntegerField()),
                ("address", models.CharField(max_length=320)),
                ("credential", models.CharField(max_length=32)),
                ("protocol", models.CharField(max_length=16)),
                ("ip", models.CharField(max_length=64)),
                ("success", models.BooleanField()),
                ("throttled", models.BooleanField()),
            ],
            options={
                "db_table": "mailserver_mail_logins",
            },
        ),
        migrations.RunPython(create_views, previous_views),
    ]
