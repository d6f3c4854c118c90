"""The DKIM signer's side on the mail host (mailserver.dkim, `adminpanel mailserver-dkim`): what
`mailserver-config` writes for OpenDKIM, how the keys reach it through the view
mailserver_dkim_keys, and that nothing but a host holding DKIM_ENCRYPTION_KEYS can read them."""

import argparse
import base64
import grp
import re
import stat

import psycopg
import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import connection

from adminpanel.accounts.models import Account
from adminpanel.mail import dkim as mail_dkim
from adminpanel.mail import services
from adminpanel.mail.models import DkimKey
from adminpanel.mailserver import dkim
from adminpanel.mailserver.commands import mailserver_config, mailserver_dkim

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="login roles are PostgreSQL's"
)


@pytest.fixture
def admin(db) -> Account:
    return Account.objects.create_user("admin", "Admin-Quartz-Lantern-4817", is_owner=True)


def view_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT domain, selector, private_key FROM mailserver_dkim_keys")
        return sorted(cursor.fetchall())


def run_dkim(tmp_path, **options) -> int:
    args = {"out": str(tmp_path / "opendkim"), "pid_file": str(tmp_path / "none.pid"), "every": 0}
    return mailserver_dkim(argparse.Namespace(**{**args, **options}))


def test_mailserver_config_writes_a_signer_that_signs_logins_only(db, tmp_path):
    assert mailserver_config(argparse.Namespace(out=str(tmp_path), role=None)) == 0
    conf = (tmp_path / "opendkim" / "opendkim.conf").read_text()
    settings_of = dict(
        re.split(r"\s+", line, maxsplit=1) for line in conf.splitlines() if line[:1].isalpha()
    )
    assert settings_of["Mode"] == "s"  # signs; verifying incoming mail is not its job
    assert settings_of["Socket"] == "inet:8891@127.0.0.1"
    assert settings_of["KeyTable"] == "file:/etc/opendkim/adminpanel/key.table"
    # Not the default 127.0.0.1: a client on loopback is signed for only after a login.
    assert settings_of["InternalHosts"] == "file:/etc/opendkim/adminpanel/internal-hosts"
    assert "RequireSafeKeys" not in settings_of
    main_cf = (tmp_path / "postfix" / "main.cf").read_text()
    assert "smtpd_milters = inet:127.0.0.1:8891\n" in main_cf
    assert "milter_default_action = accept\n" in main_cf


def test_each_active_domain_signs_with_its_newest_key_only(admin):
    first = services.create_domain(admin, name="first.example")
    services.create_domain(admin, name="off.example", active=False)
    old = DkimKey.objects.get(domain=first)
    new = mail_dkim.rotate(admin, first)
    assert [(d, s) for d, s, _ in view_rows()] == [("first.example", new.selector)]
    assert view_rows()[0][2] == DkimKey.objects.get(pk=new.pk).private_key  # ciphertext
    assert old.selector != new.selector


@pytest.mark.usefixtures("production_dkim_keys")
def test_the_stored_key_is_encrypted_with_the_dkim_keys_and_not_the_totp_keys(admin):
    domain = services.create_domain(admin, name="secret.example")
    key = DkimKey.objects.get(domain=domain)
    der = base64.b64decode(
        Fernet(settings.DKIM_ENCRYPTION_KEYS[0].encode()).decrypt(key.private_key.encode())
    )
    private = serialization.load_der_private_key(der, password=None)
    assert private.key_size == 2048
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert base64.b64encode(public).decode() == key.public_key
    assert settings.DKIM_ENCRYPTION_KEYS[0] not in settings.ENCRYPTION_KEYS
    with pytest.raises(InvalidToken):
        Fernet(settings.ENCRYPTION_KEYS[0].encode()).decrypt(key.private_key.encode())


@pytest.mark.usefixtures("production_dkim_keys")
@pytest.mark.django_db(transaction=True)
def test_the_mail_host_writes_the_keys_for_opendkim_and_forgets_removed_ones(admin, tmp_path):
    domain = services.create_domain(admin, name="signed.example")
    first = DkimKey.objects.get(domain=domain).selector
    assert run_dkim(tmp_path) == 0
    out = tmp_path / "opendkim"
    key_file = out / "keys" / f"signed.example.{first}.pem"
    assert (out / "key.table").read_text() == f"signed.example signed.example:{first}:{key_file}\n"
    assert (out / "signing.table").read_text() == "signed.example signed.example\n"
    assert (out / "internal-hosts").read_text() == ""
    pem = key_file.read_bytes()
    assert serialization.load_pem_private_key(pem, password=None).key_size == 2048
    for path in [key_file, out / "key.table"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert path.stat().st_gid == grp.getgrnam("opendkim").gr_gid
    assert stat.S_IMODE((out / "keys").stat().st_mode) == 0o750
    second = mail_dkim.rotate(admin, domain).selector
    assert run_dkim(tmp_path) == 0
    assert f":{second}:" in (out / "key.table").read_text()
    # The running signer keeps the old key until it has read the new tables: a round later.
    assert (out / "keys" / f"signed.example.{first}.pem").exists()
    assert run_dkim(tmp_path) == 0
    assert sorted(p.name for p in (out / "keys").iterdir()) == [f"signed.example.{second}.pem"]


@pytest.mark.django_db(transaction=True)
def test_a_mail_host_without_the_dkim_keys_says_so_and_keeps_what_it_had(
    admin, tmp_path, capsys, monkeypatch
):
    services.create_domain(admin, name="kept.example")
    assert run_dkim(tmp_path) == 0
    before = (tmp_path / "opendkim" / "key.table").read_text()
    services.create_domain(admin, name="new.example")
    monkeypatch.setattr(settings, "DKIM_ENCRYPTION_KEYS", [Fernet.generate_key().decode()])
    assert run_dkim(tmp_path) == 1
    said = capsys.readouterr().err
    assert "cannot be decrypted here" in said and "ADMINPANEL_DKIM_ENCRYPTION_KEYS" in said
    assert (tmp_path / "opendkim" / "key.table").read_text() == before


@pytest.mark.parametrize(
    "row",
    [
        ("evil.example\nx", "ap1", "token"),
        ("evil.example", "ap1:/etc/shadow", "token"),
        ("../evil.example", "ap1", "token"),
        ("evil.example", "", "token"),
    ],
)
def test_a_row_opendkim_could_misread_is_refused(row, tmp_path):
    with pytest.raises(dkim.DkimError, match="not a domain and selector"):
        dkim.tables([row], settings.DKIM_ENCRYPTION_KEYS, tmp_path)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_mail_role_reads_the_keys_only_as_ciphertext(admin, tmp_path):
    services.create_domain(admin, name="role.example")
    assert mailserver_config(argparse.Namespace(out=str(tmp_path), role="mailreader")) == 0
    text = (tmp_path / "dovecot" / "sql.conf.ext").read_text()
    connect = re.search(r"^connect = (.*)$", text, re.M).group(1)
    with psycopg.connect(connect, autocommit=True) as role:
        rows = role.execute("SELECT domain, private_key FROM mailserver_dkim_keys").fetchall()
        assert [d for d, _ in rows] == ["role.example"]
        assert not rows[0][1].startswith("MII")  # not a key: Fernet's token
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            role.execute("SELECT * FROM mail_dkimkey")
