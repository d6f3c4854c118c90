"""SPEC §4.3: what an authenticator app reads — the otpauth URI, its QR code, the key."""

import base64
import re

import pytest

from adminpanel.accounts.models import Account
from adminpanel.twofactor import services
from adminpanel.twofactor.provisioning import grouped, otpauth_uri, qr_svg
from tests.qr import decode_qr

KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TAIL = f"?secret={KEY}&issuer=Admin%20Panel&algorithm=SHA1&digits=6&period=30"


def test_the_uri_has_the_exact_format_of_the_spec():
    assert otpauth_uri(KEY, "admin", "Admin Panel") == f"otpauth://totp/Admin%20Panel:admin{TAIL}"


@pytest.mark.parametrize(
    ("username", "label"),
    [
        ("ops@example.com", "ops%40example.com"),
        ("first.last", "first.last"),
        ("a+b", "a%2Bb"),
        ("team#1", "team%231"),
        ("jörg", "j%C3%B6rg"),
        ("用户", "%E7%94%A8%E6%88%B7"),
        ("with space", "with%20space"),
        ("a:b/c?d&e=f", "a%3Ab%2Fc%3Fd%26e%3Df"),
    ],
)
def test_the_username_is_percent_encoded_in_the_label(username, label):
    assert otpauth_uri(KEY, username, "Admin Panel") == (
        f"otpauth://totp/Admin%20Panel:{label}{TAIL}"
    )


def test_a_space_in_the_issuer_is_percent_20_never_plus():
    uri = otpauth_uri(KEY, "admin", "Acme Mail Hosting")
    assert uri.startswith("otpauth://totp/Acme%20Mail%20Hosting:admin?")
    assert "&issuer=Acme%20Mail%20Hosting&" in uri
    assert "+" not in uri


def test_a_colon_in_the_issuer_is_dropped():
    uri = otpauth_uri(KEY, "admin", "Acme: Mail")
    assert uri == (
        f"otpauth://totp/Acme%20Mail:admin?secret={KEY}&issuer=Acme%20Mail"
        "&algorithm=SHA1&digits=6&period=30"
    )


def test_the_issuer_is_percent_encoded_like_the_username():
    uri = otpauth_uri(KEY, "admin", "Café & Co #1")
    assert uri.startswith("otpauth://totp/Caf%C3%A9%20%26%20Co%20%231:admin?")
    assert "&issuer=Caf%C3%A9%20%26%20Co%20%231&" in uri


@pytest.mark.django_db
def test_a_setup_key_is_160_random_bits_in_base32_without_padding(clock):
    account = Account.objects.create_user("alice", "correct-horse-battery-staple")
    keys = set()
    for _ in range(3):
        key = services.setup_key(services.start_setup(account, now=clock()))
        assert re.fullmatch(r"[A-Z2-7]{32}", key)
        assert len(base64.b32decode(key)) == 20
        keys.add(key)
    assert len(keys) == 3


def test_the_key_for_manual_entry_is_grouped_in_fours():
    assert grouped(KEY) == "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"


def test_the_qr_code_is_an_svg_named_qr_code():
    svg = qr_svg(otpauth_uri(KEY, "admin", "Admin Panel"))
    assert svg.startswith('<svg role="img" aria-label="QR code" ')


@pytest.mark.parametrize("username", ["admin", "ops@example.com", "jörg+tag#1"])
def test_the_qr_code_encodes_the_uri(username):
    uri = otpauth_uri(KEY, username, "Admin Panel")
    assert decode_qr(qr_svg(uri)) == uri
