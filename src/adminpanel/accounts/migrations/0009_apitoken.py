"""API tokens belong to identity: the model moves from the api app to accounts (issue 17).
The table stays where the api app made it (api_apitoken): only Django's state moves."""

import django.db.models.deletion
from django.db import migrations, models

import adminpanel.clock


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_email_change"),
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiToken",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(default=adminpanel.clock.now)),
                        ("expires_at", models.DateTimeField()),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        ("revoked_reason", models.CharField(blank=True, max_length=64)),
                        ("last_used_ip", models.CharField(blank=True, max_length=64)),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="api_tokens",
                                to="accounts.account",
                            ),
                        ),
                    ],
                    options={"db_table": "api_apitoken"},
                ),
            ],
        ),
    ]
