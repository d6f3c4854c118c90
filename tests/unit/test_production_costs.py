"""The costs the test run lowers (tests/conftest.py) stay at production as deployed: Argon2id at
OWASP's floor (19 MiB, 2 passes, 1 lane) and 2048-bit DKIM keys; the run lowers the cost only,
through the same hasher and the same key code."""

import base64
import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.contrib.auth.hashers import make_password

from adminpanel.mail import dkim

AS_DEPLOYED = """
import json, base64, django
django.setup()
from django.conf import settings
from django.contrib.auth.hashers import make_password
from adminpanel.mail import dkim
print(json.dumps({
    "hashers": settings.PASSWORD_HASHERS,
    "hash": make_password("correct horse battery staple"),
    "dkim_bits": settings.DKIM_KEY_BITS,
    "dkim_public": dkim.new_key_pair()[1],
}))
"""


def public_key_bits(public: str) -> int:
    return serialization.load_der_public_key(base64.b64decode(public)).key_size


def test_the_settings_as_deployed_use_the_production_costs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMINPANEL_")}
    env.update(ADMINPANEL_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="adminpanel.settings")
    out = subprocess.run(
        [sys.executable, "-c", AS_DEPLOYED], env=env, capture_output=True, text=True, check=True
    )
    deployed = json.loads(out.stdout)
    assert deployed["hashers"] == ["adminpanel.accounts.hashers.Argon2idHasher"]
    assert deployed["hash"].startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert deployed["dkim_bits"] == 2048
    assert public_key_bits(deployed["dkim_public"]) == 2048


def test_the_test_run_lowers_the_cost_and_keeps_the_algorithm():
    assert settings.PASSWORD_HASHERS == ["adminpanel.accounts.hashers.Argon2idHasher"]
    assert make_password("correct horse battery staple").startswith(
        "argon2$argon2id$v=19$m=1024,t=1,p=1$"
    )
    assert public_key_bits(dkim.new_key_pair()[1]) == settings.DKIM_KEY_BITS == 1024


@pytest.mark.usefixtures("production_dkim_keys")
def test_a_test_about_the_key_size_gets_the_production_size():
    assert public_key_bits(dkim.new_key_pair()[1]) == 2048
