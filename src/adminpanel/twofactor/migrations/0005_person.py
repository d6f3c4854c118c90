"""The second factor's rows move from the account to its person (people.Person), every row kept.

The code state's key is the account, so it moves by a new table (CodeState) filled from the
old one (renamed LegacyCodeState, dropped by 0006).
"""

import django.db.models.deletion
from django.db import migrations, models

# Rows with an account, in the order of their tables; the challenge's account may be empty.
MOVED = ("totpdevice", "pendingsetup", "recoverycode", "webauthnkey", "webauthnchallenge")


def to_persons(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    person_of = dict(Account.objects.values_list("pk", "person_id"))
    for name in MOVED:
        model = apps.get_model("twofactor", name)
        for account_id, person_id in person_of.items():
            model.objects.filter(account_id=account_id).update(person_id=person_id)
    CodeState = apps.get_model("twofactor", "CodeState")
    CodeState.objects.bulk_create(
        CodeState(
            person_id=person_of[old.account_id],
            last_step=old.last_step,
            failures=old.failures,
            retry_at=old.retry_at,
        )
        for old in apps.get_model("twofactor", "LegacyCodeState").objects.all()
    )


def person_field(related_name=None):
    return models.ForeignKey(
        null=True,
        blank=True,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="people.person",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("twofactor", "0004_webauthnkey_passkey"),
        ("accounts", "0013_account_person_required"),
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.RenameModel("CodeState", "LegacyCodeState"),
        migrations.AlterField(
            model_name="legacycodestate",
            name="account",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="+",
                serialize=False,
                to="accounts.account",
            ),
        ),
        migrations.CreateModel(
            name="CodeState",
            fields=[
                (
                    "person",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="code_state",
                        serialize=False,
                        to="people.person",
                    ),
                ),
                ("last_step", models.BigIntegerField(blank=True, null=True)),
                ("failures", models.PositiveIntegerField(default=0)),
                ("retry_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.AddField("totpdevice", "person", person_field("+")),
        migrations.AddField("pendingsetup", "person", person_field("+")),
        migrations.AddField("recoverycode", "person", person_field("+")),
        migrations.AddField("webauthnkey", "person", person_field("+")),
        migrations.AddField("webauthnchallenge", "person", person_field("+")),
        migrations.RunPython(to_persons, migrations.RunPython.noop),
    ]
