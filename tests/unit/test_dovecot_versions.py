"""Dovecot 2.3 (Debian 12) and 2.4 (Debian 13) get the same settings in their own syntax
(issue 18 item 6): one set of queries, maps and values, spelled per version. Both outputs run
against a real Dovecot in tests/mailserver (2.3: the machine's own, every mail test; 2.4:
Debian 13's, test_dovecot24.py)."""

import re
from dataclasses import replace

import pytest

from adminpanel.mailserver import config

PEPPER = "0123456789abcdef" * 2
DATABASES = [
    config.Database("sqlite", "/srv/panel/adminpanel.sqlite3"),
    config.Database("postgresql", "adminpanel", host="db.example", port=5432, user="mail",
                    password="secret"),
]  # fmt: skip


def rendered(database: config.Database, version: str) -> dict[str, tuple[str, int]]:
    layout = replace(
        config.debian_layout(),
        app_password_pepper=PEPPER,
        certfile="/etc/ssl/mail.pem",
        keyfile="/etc/ssl/mail.key",
        dovecot_version=version,
    )
    return config.dovecot_files(database, layout)


@pytest.mark.parametrize(
    ("said", "version"),
    [
        ("2.3.19.1 (9b53102964)", "2.3"),  # Debian 12
        ("2.4.1-4 (7d8c0e5759)", "2.4"),  # Debian 13
        ("2.4.0 (abcdef)", "2.4"),
        ("2.5.3 (abcdef)", "2.4"),
        ("2.2.36 (abcdef)", "2.3"),
    ],
)
def test_the_version_is_read_from_what_dovecot_says(said, version):
    assert config.dovecot_version_of(said) == version


@pytest.mark.parametrize("database", DATABASES, ids=lambda db: db.vendor)
def test_both_versions_write_the_same_files_with_the_same_modes(database):
    old, new = rendered(database, "2.3"), rendered(database, "2.4")
    assert {name: mode for name, (_, mode) in old.items()} == {
        name: mode for name, (_, mode) in new.items()
    }


@pytest.mark.parametrize("database", DATABASES, ids=lambda db: db.vendor)
def test_each_version_gets_only_its_own_syntax(database):
    old = "".join(text for text, _ in rendered(database, "2.3").values())
    new = "".join(text for text, _ in rendered(database, "2.4").values())
    for only_23 in ["args = ", "connect = ", "'%u'", "'%n'", "password_query", "ssl_cert = <"]:
        assert only_23 in old and only_23 not in new, only_23
    for only_24 in ["sql_driver = ", "'%{user}'", "sql_query", "ssl_server_cert_file = /"]:
        assert only_24 in new and only_24 not in old, only_24


@pytest.mark.parametrize("name", ["app-passwords.conf.ext", "mailbox-password.conf.ext"])
def test_the_passdb_queries_are_one_query_spelled_twice(name):
    """The same SQL apart from the variables of each version (and the pepper in both)."""
    spelled = {}
    for version, syntax in config.DOVECOT_SYNTAX.items():
        text = rendered(DATABASES[1], version)[f"dovecot/{name}"][0]
        (query,) = re.findall(r"^(?:password_query|sql_query) = (.*)$", text, re.M)
        digest = syntax.app_digest.format(pepper=PEPPER)
        for variable, neutral in [
            (digest, "DIGEST"),
            (syntax.user, "USER"),
            (syntax.local_part, "LOCAL"),
            (syntax.domain, "DOMAIN"),
        ]:
            query = query.replace(f"'{variable}'", neutral)
        spelled[version] = query
    assert spelled["2.3"] == spelled["2.4"]
    assert "%" not in spelled["2.4"]


def test_the_24_quota_grace_is_the_same_share_of_the_quota_as_23s():
    sql = rendered(DATABASES[0], "2.4")["dovecot/sql.conf.ext"][0]
    assert f"(quota_bytes * {config.QUOTA_GRACE_PERCENT} / 100) || 'B'" in sql
    assert (
        f"quota_grace = {config.QUOTA_GRACE_PERCENT}%%"
        in (rendered(DATABASES[0], "2.3")["dovecot/adminpanel.conf"][0])
    )


def test_a_version_it_cannot_write_is_refused():
    with pytest.raises(ValueError, match="2.3 and 2.4"):
        rendered(DATABASES[0], "3.0")
