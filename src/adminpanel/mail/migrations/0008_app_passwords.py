"""App passwords of mailboxes and the two domain settings of SPEC §14; mailserver 0013 adds
the views the mail servers read them through."""

import adminpanel.clock
import django.db.models.deletion
from django.db import migrations, models


def legacy_rename_on_sqlite(on: bool):
    # SQLite rebuilds mail_domain to add a column and renames the copy into place; a modern
    # rename checks every view that names the table and fails while the old one is gone.
    # The legacy rename leaves the views alone, and they read the new table by its name.
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"PRAGMA legacy_alter_table = {'ON' if on else 'OFF'}")

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0007_alias_domains'),
        ('mailserver', '0012_auth_failures'),
    ]

    operations = [
        migrations.RunPython(legacy_rename_on_sqlite(True), legacy_rename_on_sqlite(False)),
        migrations.AddField(
            model_name='domain',
            name='mail_apps_may_use_mailbox_password',
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name='domain',
            name='require_owner_2fa',
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name='AppPassword',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('digest_plain', models.CharField(max_length=64, unique=True)),
                ('digest_dashes', models.CharField(max_length=64, unique=True)),
                ('digest_spaces', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(default=adminpanel.clock.now)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('last_used_protocol', models.CharField(blank=True, max_length=8)),
                ('last_used_ip', models.CharField(blank=True, max_length=64)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('mailbox', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='app_passwords', to='mail.mailbox')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.RunPython(legacy_rename_on_sqlite(False), legacy_rename_on_sqlite(True)),
]
