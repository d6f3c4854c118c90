"""Domains scope (SPEC §17): a Sub-Admin sees all domains or only those listed for it
(mail.ScopedDomain). Every existing Sub-Admin keeps seeing all of them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_account_person_required")]

    operations = [
        migrations.AddField(
            model_name="account",
            name="all_domains",
            field=models.BooleanField(default=True, verbose_name="All domains"),
        ),
    ]
