"""mailserver_dkim_keys(domain, selector, private_key): the key each active domain signs with
(its newest), for the mail host's signer (mailserver.dkim). `private_key` is as the panel keeps
it, encrypted with DKIM_ENCRYPTION_KEYS: the mail role reads ciphertext, and only a host given
those keys can turn it into a key (SPEC §15)."""

from django.db import migrations

DKIM_KEYS = """
CREATE VIEW mailserver_dkim_keys AS
SELECT d.name AS domain, k.selector AS selector, k.private_key AS private_key
FROM mail_dkimkey k
JOIN mail_domain d ON d.id = k.domain_id
WHERE d.active
  AND k.id = (SELECT max(newest.id) FROM mail_dkimkey newest WHERE newest.domain_id = d.id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0009_dkim_keys"),
        ("mailserver", "0014_sender_logins_view"),
    ]

    operations = [migrations.RunSQL(DKIM_KEYS, "DROP VIEW IF EXISTS mailserver_dkim_keys")]
