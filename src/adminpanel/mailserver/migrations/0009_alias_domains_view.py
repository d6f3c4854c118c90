"""A fourth contract view (SPEC §10, §16): mailserver_alias_domains(alias_domain, target_domain,
active). `active` is false when the alias domain or its target is, so the mail servers treat
either as unknown. It reads only the two tables, never another view: the other views may be
replaced without touching it."""

from django.db import migrations

ALIAS_DOMAINS = """
CREATE VIEW mailserver_alias_domains AS
SELECT a.name AS alias_domain,
       d.name AS target_domain,
       (a.active AND d.active) AS active
FROM mail_aliasdomain a JOIN mail_domain d ON d.id = a.target_id
"""


def create_view(apps, schema_editor):
    schema_editor.execute(ALIAS_DOMAINS, params=None)


def drop_view(apps, schema_editor):
    schema_editor.execute("DROP VIEW IF EXISTS mailserver_alias_domains", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0007_alias_domains"),
        ("mailserver", "0008_sieve_view"),
    ]

    operations = [migrations.RunPython(create_view, drop_view)]
