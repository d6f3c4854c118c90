"""Sending as an alias domain's address (SPEC §15, §16): an alias domain maps local@alias to
local@target, so a login that may send as local@target may send as local@alias too.

- mailserver_sender_logins gains the rows of each alias domain: its target's mailboxes and
  aliases under the alias domain's name, active while the alias domain is too.
- mailserver_dkim_keys gains a row per active alias domain: the target's signing key and
  selector under the alias domain's name, so OpenDKIM signs with d= the alias domain. DMARC
  aligns d= with the From: domain: the target's d= would not pass for mail From: the alias
  domain. The key is the target's (its public key is published under the alias domain's
  name too, mail.dns), so one rotation covers both names.

Same names and columns as before (0014, 0015): on PostgreSQL replaced in place, so the mail
role's grants stay."""

from importlib import import_module

from django.db import migrations

contract = import_module("adminpanel.mailserver.migrations.0002_contract_views")
senders_0014 = import_module("adminpanel.mailserver.migrations.0014_sender_logins_view")
dkim_0015 = import_module("adminpanel.mailserver.migrations.0015_dkim_keys_view")

# Each branch finds its rows by a unique index: (lower(local_part), domain) of the mailbox or
# alias, and the alias domain's name.
ALIAS_DOMAIN_SENDERS = """
UNION ALL
SELECT CAST(lower(m.local_part) || '@' || ad.name AS varchar) AS address,
       lower(m.local_part) AS local_part,
       ad.name AS domain,
       lower(m.local_part) || '@' || d.name AS login,
       (m.active AND d.active AND ad.active) AS active
FROM mail_mailbox m JOIN mail_domain d ON d.id = m.domain_id
JOIN mail_aliasdomain ad ON ad.target_id = d.id
WHERE m.deleted_at IS NULL
UNION ALL
SELECT CAST(lower(a.local_part) || '@' || ad.name AS varchar) AS address,
       lower(a.local_part) AS local_part,
       ad.name AS domain,
       lower(t.value) AS login,
       (a.active AND d.active AND ad.active) AS active
FROM mail_alias a JOIN mail_domain d ON d.id = a.domain_id
JOIN mail_aliasdomain ad ON ad.target_id = d.id, DESTINATIONS AS t
"""

ALIAS_DOMAIN_KEYS = """
UNION ALL
SELECT ad.name AS domain, k.selector AS selector, k.private_key AS private_key
FROM mail_aliasdomain ad
JOIN mail_domain d ON d.id = ad.target_id
JOIN mail_dkimkey k ON k.domain_id = d.id
WHERE ad.active AND d.active
  AND k.id = (SELECT max(newest.id) FROM mail_dkimkey newest WHERE newest.domain_id = d.id)
"""


def _select(create: str) -> str:
    """The SELECT of a CREATE VIEW statement of an earlier migration."""
    return create.split(" AS\n", 1)[1]


def _replace(schema_editor, view: str, select: str) -> None:
    if schema_editor.connection.vendor == "sqlite":  # no CREATE OR REPLACE
        schema_editor.execute(f"DROP VIEW {view}", params=None)
        schema_editor.execute(f"CREATE VIEW {view} AS {select}", params=None)
    else:  # in place: the grants stay
        schema_editor.execute(f"CREATE OR REPLACE VIEW {view} AS {select}", params=None)


def _views(with_alias_domains: bool):
    def run(apps, schema_editor):
        destinations = contract.VENDOR[schema_editor.connection.vendor]["destinations"]
        senders = _select(senders_0014.SENDER_LOGINS)
        keys = _select(dkim_0015.DKIM_KEYS)
        if with_alias_domains:
            senders += ALIAS_DOMAIN_SENDERS
            keys += ALIAS_DOMAIN_KEYS
        _replace(
            schema_editor,
            "mailserver_sender_logins",
            senders.replace("DESTINATIONS", destinations),
        )
        _replace(schema_editor, "mailserver_dkim_keys", keys)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0014_scoped_domain"),
        ("mailserver", "0016_owners_with_2fa"),
    ]

    operations = [migrations.RunPython(_views(True), _views(False))]
