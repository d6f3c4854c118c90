"""Each alias keeps its address as the mail servers look it up ("local@a-label", lower case),
indexed: the view mailserver_aliases then finds an alias by index instead of building every
alias's address for every lookup (benchmarks/mailserver.py: 73 alias lookups/s with 2,000
aliases on SQLite before)."""

from django.db import migrations, models


def fill(apps, schema_editor):
    Alias = apps.get_model("mail", "Alias")
    for alias in Alias.objects.select_related("domain").iterator():
        alias.lookup_address = f"{alias.local_part.lower()}@{alias.domain.name}"
        alias.save(update_fields=["lookup_address"])


class Migration(migrations.Migration):
    dependencies = [("mail", "0001_initial")]

    operations = [
        # SQLite rebuilds the table to change it, which its views forbid: mailserver's next
        # migration (0003) creates them again.
        migrations.RunSQL(
            "DROP VIEW IF EXISTS mailserver_aliases; DROP VIEW IF EXISTS mailserver_mailboxes; "
            "DROP VIEW IF EXISTS mailserver_domains;",
            migrations.RunSQL.noop,
        ),
        migrations.AddField(
            model_name="alias",
            name="lookup_address",
            field=models.CharField(max_length=320, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="alias",
            name="lookup_address",
            field=models.CharField(max_length=320, unique=True),
        ),
    ]
