"""mailserver_usage refuses negative figures (issue 21 item 3): rows written before are set to 0
first, so the constraint can be added on any existing database."""

from django.db import migrations, models


def zero_negative_figures(apps, schema_editor):
    usage = apps.get_model("mailserver", "MailboxUsage")
    usage.objects.filter(bytes__lt=0).update(bytes=0)
    usage.objects.filter(messages__lt=0).update(messages=0)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0009_alias_domains_view"),
    ]

    operations = [
        migrations.RunPython(zero_negative_figures, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="mailboxusage",
            constraint=models.CheckConstraint(
                condition=models.Q(bytes__gte=0, messages__gte=0), name="usage_not_negative"
            ),
        ),
    ]
