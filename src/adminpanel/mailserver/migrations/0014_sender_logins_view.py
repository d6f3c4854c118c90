"""The sender rules' contract view (SPEC §15): mailserver_sender_logins(address, local_part,
domain, login, active) says which login may send as which address — a mailbox as itself, and
each alias (not a catch-all) as each of its destinations, so a mailbox may send as every alias
that delivers to it. Postfix's smtpd_sender_login_maps and the From: check read it by
(local_part, domain), which both branches find by their unique (lower(local_part), domain)
index. It reads only tables, never another view: the other views may be replaced without
touching it."""

from importlib import import_module

from django.db import migrations

contract = import_module("adminpanel.mailserver.migrations.0002_contract_views")

# One type per column in both branches of the UNION ALL (varchar/text as the tables give
# them): PostgreSQL pushes a WHERE into the branches only then (see 0004).
SENDER_LOGINS = """
CREATE VIEW mailserver_sender_logins AS
SELECT CAST(lower(m.local_part) || '@' || d.name AS varchar) AS address,
       lower(m.local_part) AS local_part,
       d.name AS domain,
       lower(m.local_part) || '@' || d.name AS login,
       (m.active AND d.active) AS active
FROM mail_mailbox m JOIN mail_domain d ON d.id = m.domain_id
WHERE m.deleted_at IS NULL
UNION ALL
SELECT a.lookup_address AS address,
       lower(a.local_part) AS local_part,
       d.name AS domain,
       lower(t.value) AS login,
       (a.active AND d.active) AS active
FROM mail_alias a JOIN mail_domain d ON d.id = a.domain_id, DESTINATIONS AS t
"""


def create_view(apps, schema_editor):
    destinations = contract.VENDOR[schema_editor.connection.vendor]["destinations"]
    schema_editor.execute(SENDER_LOGINS.replace("DESTINATIONS", destinations), params=None)


def drop_view(apps, schema_editor):
    schema_editor.execute("DROP VIEW IF EXISTS mailserver_sender_logins", params=None)


class Migration(migrations.Migration):
    dependencies = [("mailserver", "0013_mail_logins")]

    operations = [migrations.RunPython(create_view, drop_view)]
