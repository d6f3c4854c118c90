"""Alias domains (SPEC §16): a new table, so no view has to be dropped on SQLite; mailserver
0007 adds the view the mail servers read it through."""

import adminpanel.clock
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0006_leaving_staff'),
    ]

    operations = [
        migrations.CreateModel(
            name='AliasDomain',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=253, unique=True)),
                ('active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(default=adminpanel.clock.now)),
                ('target', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='alias_domains', to='mail.domain')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
    ]
