"""mailserver_auth_failures: failed mail logins per mailbox, for the auth policy server (issue 21 item 3)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0011_end_sessions"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuthFailures",
            fields=[
                ("address", models.CharField(max_length=320, primary_key=True, serialize=False)),
                ("failures", models.IntegerField()),
                ("last_failure", models.BigIntegerField()),
            ],
            options={
                "db_table": "mailserver_auth_failures",
            },
        ),
    ]
