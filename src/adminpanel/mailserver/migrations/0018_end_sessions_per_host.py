"""Ending IMAP sessions with several mail hosts (issue 18 item 4): each host's Dovecot holds its
own sessions, but 0011 recorded a request once (mailserver_sessions_ended, keyed by the request),
so the first host to act hid it from the others, whose sessions stayed open. Now each host
records the requests it carried out under its name (mailserver_host_sessions_ended), and the
view mailserver_end_sessions(id, address) lists every request the panel keeps (a day): each
host leaves out its own. The mail role reads and adds to the new table (`--role` again)."""

from django.db import migrations, models

OLD_VIEW = """
CREATE VIEW mailserver_end_sessions AS
SELECT r.id AS id, r.address AS address
FROM mailserver_end_sessions_request r
WHERE NOT EXISTS (SELECT 1 FROM mailserver_sessions_ended e WHERE e.request_id = r.id)
"""
VIEW = """
CREATE VIEW mailserver_end_sessions AS
SELECT r.id AS id, r.address AS address FROM mailserver_end_sessions_request r
"""
DROP_VIEW = "DROP VIEW IF EXISTS mailserver_end_sessions"


class Migration(migrations.Migration):
    dependencies = [("mailserver", "0017_alias_domain_senders")]

    operations = [
        migrations.RunSQL(DROP_VIEW, OLD_VIEW),
        migrations.DeleteModel(name="SessionsEnded"),
        migrations.CreateModel(
            name="SessionsEnded",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("request_id", models.BigIntegerField()),
                ("host", models.CharField(max_length=255)),
                ("ended_at", models.DateTimeField()),
            ],
            options={"db_table": "mailserver_host_sessions_ended"},
        ),
        migrations.AddConstraint(
            model_name="sessionsended",
            constraint=models.UniqueConstraint(
                fields=("request_id", "host"), name="sessions_ended_per_host"
            ),
        ),
        migrations.RunSQL(VIEW, DROP_VIEW),
    ]
