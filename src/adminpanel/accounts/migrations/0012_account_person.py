"""Every account gets its person (people.Person), whom the second factor's rows will point to."""

import django.db.models.deletion
from django.db import migrations, models


def give_each_account_a_person(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    Person = apps.get_model("people", "Person")
    for account in Account.objects.filter(person__isnull=True).order_by("pk"):
        account.person = Person.objects.create(kind="account", created_at=account.created_at)
        account.save(update_fields=["person"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_api_key"),
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="person",
            field=models.OneToOneField(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="account",
                to="people.person",
            ),
        ),
        migrations.RunPython(give_each_account_a_person, migrations.RunPython.noop),
    ]
