"""Deep pages of Users and Aliases (issue 20: `?offset=99900`): a page's ids and the list's
count come from the index alone, walking past the rows before it without reading them."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0014_scoped_domain'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='alias',
            name='alias_by_domain',
        ),
        migrations.RemoveIndex(
            model_name='mailbox',
            name='mailbox_live_by_domain',
        ),
        migrations.AddIndex(
            model_name='alias',
            index=models.Index(fields=['domain', 'local_part'], include=('id',), name='alias_listed'),
        ),
        migrations.AddIndex(
            model_name='mailbox',
            index=models.Index(condition=models.Q(('deleted_at__isnull', True)), fields=['domain', 'local_part', 'deleted_at'], include=('id',), name='mailbox_live_listed'),
        ),
    ]
