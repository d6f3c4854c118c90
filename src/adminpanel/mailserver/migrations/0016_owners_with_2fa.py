"""`mailbox_owners_with_2fa(mailbox_id)` becomes real (SPEC §14): the mailboxes whose owner
(mail 0012) has a second factor, an authenticator app or a security key, as twofactor counts
them (services.FACTORS). mailserver_mailboxes reads it for `mail_apps_may_use_password`, so
turning 2FA on stops the mailbox password at the next IMAP or SMTP login. Same name and column
as 0013's placeholder: the views that read it stay as they are."""

from django.db import migrations

SELECT = """
SELECT m.id AS mailbox_id FROM mail_mailbox m
WHERE EXISTS (SELECT 1 FROM twofactor_totpdevice t WHERE t.person_id = m.person_id)
   OR EXISTS (SELECT 1 FROM twofactor_webauthnkey k WHERE k.person_id = m.person_id)
"""
PLACEHOLDER = "SELECT m.id AS mailbox_id FROM mail_mailbox m WHERE 1 = 0"


def replace_view(select: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            # SQLite has no CREATE OR REPLACE; the views that name it resolve it at each query.
            schema_editor.execute("DROP VIEW mailbox_owners_with_2fa", params=None)
            schema_editor.execute(f"CREATE VIEW mailbox_owners_with_2fa AS {select}", params=None)
        else:  # in place: the views that read it and the grants stay
            schema_editor.execute(
                f"CREATE OR REPLACE VIEW mailbox_owners_with_2fa AS {select}", params=None
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0013_mailbox_person_required"),
        ("twofactor", "0006_person_required"),
        ("mailserver", "0015_dkim_keys_view"),
    ]

    operations = [migrations.RunPython(replace_view(SELECT), replace_view(PLACEHOLDER))]
