"""Ending a mailbox's open IMAP sessions (issue 21 item 7): the panel writes a request, the mail
host reads the view mailserver_end_sessions(id, address) — the requests not yet carried out —
runs `doveadm kick` and records each in mailserver_sessions_ended (mailserver.sessions)."""

from django.db import migrations, models

VIEW = """
CREATE VIEW mailserver_end_sessions AS
SELECT r.id AS id, r.address AS address
FROM mailserver_end_sessions_request r
WHERE NOT EXISTS (SELECT 1 FROM mailserver_sessions_ended e WHERE e.request_id = r.id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0010_usage_not_negative"),
    ]

    operations = [
        migrations.CreateModel(
            name="EndSessionsRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("address", models.CharField(max_length=320)),
                ("requested_at", models.DateTimeField()),
            ],
            options={
                "db_table": "mailserver_end_sessions_request",
            },
        ),
        migrations.CreateModel(
            name="SessionsEnded",
            fields=[
                ("request_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("ended_at", models.DateTimeField()),
            ],
            options={
                "db_table": "mailserver_sessions_ended",
            },
        ),
        migrations.RunSQL(VIEW, "DROP VIEW IF EXISTS mailserver_end_sessions"),
    ]
