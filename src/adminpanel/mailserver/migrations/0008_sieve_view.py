"""mailserver_sieve(address, script_id, script): each mailbox's Sieve script (Forwarding and
Automatic reply, SPEC §16), which Dovecot's Sieve plugin reads live through a dict. A new view,
so the three of SPEC §10 stay as they are; mailboxes without a script have no row, and neither
have deleted ones: their address may belong to a new mailbox, which must never get the previous
owner's forwarding."""

from django.db import migrations

SIEVE = """
CREATE VIEW mailserver_sieve AS
SELECT lower(m.local_part) || '@' || d.name AS address,
       s.script_id AS script_id,
       s.script AS script
FROM mail_sievescript s
JOIN mail_mailbox m ON m.id = s.mailbox_id
JOIN mail_domain d ON d.id = m.domain_id
WHERE m.deleted_at IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0006_leaving_staff"),
        ("mailserver", "0006_mailbox_life"),
    ]

    operations = [migrations.RunSQL(SIEVE, "DROP VIEW IF EXISTS mailserver_sieve")]
