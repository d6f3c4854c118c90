import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from 0012: PostgreSQL alters no table whose rows changed in the same transaction.
    dependencies = [("accounts", "0012_account_person")]

    operations = [
        migrations.AlterField(
            model_name="account",
            name="person",
            field=models.OneToOneField(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="account",
                to="people.person",
            ),
        ),
    ]
