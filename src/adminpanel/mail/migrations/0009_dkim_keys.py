"""DKIM keys (SPEC §15): a key per domain, made with the domain from now on; the domains that
exist already get theirs here, so that every domain's mail is signed after the upgrade. The
keys are encrypted with DKIM_ENCRYPTION_KEYS like mail.dkim does (made here, not imported,
so that this migration keeps working whatever mail.dkim becomes)."""

import base64

import adminpanel.clock
import django.db.models.deletion
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import migrations, models

from adminpanel import crypto


def keys_for_existing_domains(apps, schema_editor):
    Domain = apps.get_model("mail", "Domain")
    DkimKey = apps.get_model("mail", "DkimKey")
    selector = adminpanel.clock.now().strftime("ap%Y%m%d")
    for domain in Domain.objects.filter(dkim_keys__isnull=True):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        DkimKey.objects.create(
            domain=domain,
            selector=selector,
            private_key=crypto.encrypt(
                base64.b64encode(private).decode(), settings.DKIM_ENCRYPTION_KEYS
            ),
            public_key=base64.b64encode(public).decode(),
        )


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0008_app_passwords'),
    ]

    operations = [
        migrations.CreateModel(
            name='DkimKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('selector', models.CharField(max_length=63)),
                ('private_key', models.TextField()),
                ('public_key', models.TextField()),
                ('created_at', models.DateTimeField(default=adminpanel.clock.now)),
                ('domain', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='dkim_keys', to='mail.domain')),
            ],
            options={
                'ordering': ['-id'],
                'constraints': [models.UniqueConstraint(fields=('domain', 'selector'), name='dkim_selector_unique')],
            },
        ),
        migrations.RunPython(keys_for_existing_domains, migrations.RunPython.noop),
    ]
