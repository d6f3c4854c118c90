"""Domains that exist before DKIM get a key of their own when the panel is upgraded, so their
mail is signed from the first message after it (SPEC §15)."""

import base64

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import connection

from tests.migrating import leaves, migrate

BEFORE = [("mail", "0008_app_passwords"), ("mailserver", "0013_mail_logins")]
AFTER = [("mail", "0009_dkim_keys"), ("mailserver", "0015_dkim_keys_view")]


@pytest.mark.django_db(transaction=True)
def test_each_existing_domain_gets_its_own_key_and_signs_with_it():
    apps = migrate(BEFORE)
    try:
        Domain = apps.get_model("mail", "Domain")
        for name in ["old.example", "older.example"]:
            Domain.objects.create(name=name)
        apps = migrate(AFTER)
        keys = list(apps.get_model("mail", "DkimKey").objects.order_by("domain__name"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT domain, selector FROM mailserver_dkim_keys ORDER BY domain")
            signing = cursor.fetchall()
    finally:
        migrate(leaves())
    assert [(k.domain.name, k.selector) for k in keys] == signing
    assert [d for d, _ in signing] == ["old.example", "older.example"]
    assert keys[0].public_key != keys[1].public_key
    for key in keys:
        fernet = Fernet(settings.DKIM_ENCRYPTION_KEYS[0].encode())
        der = base64.b64decode(fernet.decrypt(key.private_key.encode()))
        private = serialization.load_der_private_key(der, password=None)
        assert private.key_size == 2048
        public = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert base64.b64encode(public).decode() == key.public_key
