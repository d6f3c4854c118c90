from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

legacy_rename_on_sqlite = import_module(
    "adminpanel.mail.migrations.0008_app_passwords"
).legacy_rename_on_sqlite


class Migration(migrations.Migration):
    # Apart from 0012: PostgreSQL alters no table whose rows changed in the same transaction.
    dependencies = [("mail", "0012_mailbox_person")]

    operations = [
        migrations.RunPython(legacy_rename_on_sqlite(True), legacy_rename_on_sqlite(False)),
        migrations.AlterField(
            model_name="mailbox",
            name="person",
            field=models.OneToOneField(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="mailbox",
                to="people.person",
            ),
        ),
        migrations.RunPython(legacy_rename_on_sqlite(False), legacy_rename_on_sqlite(True)),
    ]
