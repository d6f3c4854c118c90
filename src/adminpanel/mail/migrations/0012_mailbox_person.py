"""Every mailbox gets its owner, a person (people.Person, kind "mailbox"), whom the second
factor's rows point to (SPEC §14); mailserver 0016 then reads the owner's 2FA through it."""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

legacy_rename_on_sqlite = import_module(
    "adminpanel.mail.migrations.0008_app_passwords"
).legacy_rename_on_sqlite


def give_each_mailbox_an_owner(apps, schema_editor):
    Mailbox = apps.get_model("mail", "Mailbox")
    Person = apps.get_model("people", "Person")
    # Deleted mailboxes too: Restore brings one back with its owner.
    for mailbox in Mailbox.with_deleted.filter(person__isnull=True).order_by("pk").iterator():
        mailbox.person = Person.objects.create(kind="mailbox", created_at=mailbox.created_at)
        mailbox.save(update_fields=["person"])


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0011_search_indexes"),
        ("people", "0001_initial"),
    ]

    operations = [
        # SQLite rebuilds mail_mailbox to add a unique column; the legacy rename keeps the
        # mail servers' views, which read the rebuilt table by its name (as in 0008).
        migrations.RunPython(legacy_rename_on_sqlite(True), legacy_rename_on_sqlite(False)),
        migrations.AddField(
            model_name="mailbox",
            name="person",
            field=models.OneToOneField(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="mailbox",
                to="people.person",
            ),
        ),
        migrations.RunPython(legacy_rename_on_sqlite(False), legacy_rename_on_sqlite(True)),
        migrations.RunPython(give_each_mailbox_an_owner, migrations.RunPython.noop),
    ]
