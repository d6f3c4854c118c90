"""After 0005 (apart: PostgreSQL alters no table whose rows changed in the same transaction):
the account columns go, the person columns become the rows' owners."""

import django.db.models.deletion
from django.db import migrations, models


def one_per_person(related_name):
    return models.OneToOneField(
        on_delete=django.db.models.deletion.CASCADE, related_name=related_name, to="people.person"
    )


def many_per_person(related_name, **options):
    return models.ForeignKey(
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="people.person",
        **options,
    )


class Migration(migrations.Migration):
    dependencies = [("twofactor", "0005_person")]

    operations = [
        migrations.DeleteModel("LegacyCodeState"),
        migrations.RemoveField("totpdevice", "account"),
        migrations.RemoveField("pendingsetup", "account"),
        migrations.RemoveField("recoverycode", "account"),
        migrations.RemoveField("webauthnkey", "account"),
        migrations.RemoveField("webauthnchallenge", "account"),
        migrations.AlterField("totpdevice", "person", one_per_person("totp_device")),
        migrations.AlterField("pendingsetup", "person", one_per_person("pending_setup")),
        migrations.AlterField("recoverycode", "person", many_per_person("recovery_codes")),
        migrations.AlterField("webauthnkey", "person", many_per_person("webauthn_keys")),
        migrations.AlterField(
            "webauthnchallenge", "person", many_per_person(None, null=True, blank=True)
        ),
    ]
