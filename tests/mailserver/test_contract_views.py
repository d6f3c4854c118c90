"""The views of SPEC §10 and §16: names, columns and rows exactly as the contract says, the
password in the form Dovecot verifies, and (PostgreSQL) a login role that reads them and
nothing else."""

import argparse
import re
import subprocess

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from adminpanel.accounts.models import Account
from adminpanel.mail import alias_domains, app_passwords, dkim, services
from adminpanel.mail.models import PERSON_KIND, Alias, Domain, Mailbox
from adminpanel.mailserver.commands import mailserver_config
from adminpanel.mailserver.instance import program
from adminpanel.mailserver.models import MailboxUsage, MailLogin
from adminpanel.people.models import Person
from adminpanel.twofactor import interface as twofactor
from tests.owners import owner_with_2fa

PASSWORD = "Mailbox-Cobalt-Harbor-27"
COLUMNS = {
    "mailserver_domains": ["domain", "active"],
    "mailserver_mailboxes": [
        "address",
        "local_part",
        "domain",
        "password",
        "quota_bytes",
        "maildir",
        "active",
        "sign_in_allowed",
        "mail_apps_may_use_password",
    ],
    "mailserver_aliases": ["address", "destination", "active"],
    "mailserver_purge": ["maildir"],
    "mailserver_alias_domains": ["alias_domain", "target_domain", "active"],
    "mailserver_sender_logins": ["address", "local_part", "domain", "login", "active"],
    "mailserver_app_passwords": ["address", "app_password_id", "secret_sha256", "active"],
}
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="login roles are PostgreSQL's"
)


def rows(view: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {view} ORDER BY 1, 2")  # noqa: S608 - fixed names
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def admin(db) -> Account:
    return Account.objects.create_user("admin", "Admin-Quartz-Lantern-4817", is_owner=True)


@pytest.fixture
def seeded(admin):
    services.create_domain(admin, name="Bücher.example", catch_all="Info@bücher.example")
    services.create_domain(admin, name="off.example", active=False)
    services.create_mailbox(admin, address="Info@bücher.example", password=PASSWORD, quota_mb=5)
    services.create_mailbox(admin, address="ann@off.example", password=PASSWORD)
    services.create_alias(
        admin, address="Team@bücher.example", destinations=["info@bücher.example", "Ext@Other.org"]
    )
    alias_domains.create_alias_domain(admin, name="Bücher.org", target="bücher.example")
    alias_domains.create_alias_domain(admin, name="off.org", target="off.example")
    alias_domains.create_alias_domain(
        admin, name="paused.org", target="bücher.example", active=False
    )


@pytest.mark.parametrize("view", list(COLUMNS))
def test_each_view_has_exactly_the_contract_columns(db, view):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {view} WHERE 1 = 0")  # noqa: S608 - fixed names
        assert [column[0] for column in cursor.description] == COLUMNS[view]


def test_domains_are_a_labels_with_their_state(seeded):
    assert [(r["domain"], bool(r["active"])) for r in rows("mailserver_domains")] == [
        ("off.example", False),
        ("xn--bcher-kva.example", True),
    ]


def test_mailboxes_are_lower_case_with_quota_in_bytes_and_maildir_under_the_mail_root(seeded):
    info = next(r for r in rows("mailserver_mailboxes") if r["local_part"] == "info")
    assert info["address"] == "info@xn--bcher-kva.example"
    assert info["domain"] == "xn--bcher-kva.example"
    assert info["quota_bytes"] == 5 * 1024 * 1024
    assert re.fullmatch(r"xn--bcher-kva\.example/info\.[0-9a-f]{16}/", info["maildir"])
    assert bool(info["active"]) is True


def test_app_passwords_have_a_row_per_spelling_until_revoked(admin, seeded):
    mailbox = Mailbox.objects.get(local_part="Info")
    created = app_passwords.create_app_password(mailbox, name="Phone")
    found = rows("mailserver_app_passwords")
    assert [r["address"] for r in found] == ["info@xn--bcher-kva.example"] * 3
    assert {r["app_password_id"] for r in found} == {created.app_password.pk}
    groups = created.secret.split()
    assert {r["secret_sha256"] for r in found} == {
        app_passwords.digest(sep.join(groups)) for sep in ("", "-", " ")
    }
    assert all(bool(r["active"]) for r in found)
    app_passwords.revoke_app_password(mailbox, created.app_password.pk)
    assert rows("mailserver_app_passwords") == []


def test_the_mailbox_password_serves_mail_apps_only_where_the_domain_allows(admin, seeded):
    domain = Domain.objects.get(name="xn--bcher-kva.example")
    may = {
        r["address"]: bool(r["mail_apps_may_use_password"]) for r in rows("mailserver_mailboxes")
    }
    assert may["info@xn--bcher-kva.example"] is True
    services.update_domain(admin, domain, mail_apps_may_use_mailbox_password=False)
    may = {
        r["address"]: bool(r["mail_apps_may_use_password"]) for r in rows("mailserver_mailboxes")
    }
    assert may == {"info@xn--bcher-kva.example": False, "ann@off.example": True}


def test_an_owner_with_2fa_is_listed_and_its_mailbox_password_no_longer_serves_mail_apps(
    seeded, clock
):
    """The one place the mail servers learn of an owner's 2FA (SPEC §14)."""
    info = Mailbox.objects.get(local_part="Info")

    def listed() -> list:
        with connection.cursor() as cursor:
            cursor.execute("SELECT mailbox_id FROM mailbox_owners_with_2fa")
            return [row[0] for row in cursor.fetchall()]

    def may() -> dict:
        return {
            r["address"]: bool(r["mail_apps_may_use_password"])
            for r in rows("mailserver_mailboxes")
        }

    assert listed() == [] and may()["info@xn--bcher-kva.example"] is True
    owner = owner_with_2fa(info, clock)
    assert listed() == [info.pk]
    assert may() == {"info@xn--bcher-kva.example": False, "ann@off.example": True}
    twofactor.reset(owner.account)
    assert listed() == [] and may()["info@xn--bcher-kva.example"] is True


def test_a_mailbox_re_created_at_a_deleted_address_gets_a_maildir_of_its_own(admin, seeded):
    first = services.create_mailbox(admin, address="alice@off.example", password=PASSWORD)
    services.delete_mailbox(admin, first)
    second = services.create_mailbox(admin, address="Alice@off.example", password=PASSWORD)
    assert second.maildir != first.maildir
    assert [r["maildir"] for r in rows("mailserver_mailboxes") if r["local_part"] == "alice"] == [
        second.maildir
    ]


def test_a_mailbox_of_an_inactive_domain_is_inactive(seeded):
    ann = next(r for r in rows("mailserver_mailboxes") if r["local_part"] == "ann")
    assert bool(ann["active"]) is False


def test_aliases_have_one_row_per_destination_and_the_catch_all_as_at_domain(seeded):
    assert [(r["address"], r["destination"]) for r in rows("mailserver_aliases")] == [
        ("@xn--bcher-kva.example", "info@xn--bcher-kva.example"),
        ("team@xn--bcher-kva.example", "ext@other.org"),
        ("team@xn--bcher-kva.example", "info@xn--bcher-kva.example"),
    ]


def test_sender_logins_are_each_mailbox_itself_and_each_alias_its_destinations(seeded):
    """Who may send as which address (Postfix's smtpd_sender_login_maps, the From: check):
    never a catch-all, which would hand a whole domain to one mailbox. An alias domain's
    addresses are its target's, for the same logins, active while the alias domain is."""
    info = "info@xn--bcher-kva.example"
    expected = [("ann@off.example", "ann@off.example", False)]
    for name, active in [
        ("xn--bcher-kva.example", True),
        ("paused.org", False),
        ("xn--bcher-kva.org", True),
    ]:
        expected += [
            (f"info@{name}", info, active),
            (f"team@{name}", "ext@other.org", active),
            (f"team@{name}", info, active),
        ]
    expected.append(("ann@off.org", "ann@off.example", False))
    assert sorted(
        (r["address"], r["local_part"], r["domain"], r["login"], bool(r["active"]))
        for r in rows("mailserver_sender_logins")
    ) == sorted(
        (address, *address.split("@"), login, active) for address, login, active in expected
    )


def test_active_alias_domains_sign_with_their_targets_newest_key_under_their_own_name(seeded):
    """mailserver_dkim_keys: d= must be the From: domain for DMARC, so an alias domain has a
    row of its own, with its target's signing key; none while it or its target is off."""
    dkim.rotate(Account.objects.get(username="admin"), Domain.objects.get(name="off.example"))
    target = Domain.objects.get(name="xn--bcher-kva.example")
    newest = dkim.rotate(Account.objects.get(username="admin"), target)
    assert [
        (r["domain"], r["selector"], r["private_key"]) for r in rows("mailserver_dkim_keys")
    ] == [
        ("xn--bcher-kva.example", newest.selector, newest.private_key),
        ("xn--bcher-kva.org", newest.selector, newest.private_key),
    ]


def test_alias_domains_are_a_labels_active_only_when_they_and_their_target_are(seeded):
    assert [
        (r["alias_domain"], r["target_domain"], bool(r["active"]))
        for r in rows("mailserver_alias_domains")
    ] == [
        ("off.org", "off.example", False),
        ("paused.org", "xn--bcher-kva.example", False),
        ("xn--bcher-kva.org", "xn--bcher-kva.example", True),
    ]


def test_the_password_is_argon2id_in_dovecots_form_and_dovecot_verifies_it(seeded):
    password = rows("mailserver_mailboxes")[0]["password"]
    assert password.startswith("{ARGON2ID}$argon2id$v=19$")
    doveadm = program("doveadm")
    right = subprocess.run([doveadm, "pw", "-t", password, "-p", PASSWORD], capture_output=True)
    wrong = subprocess.run([doveadm, "pw", "-t", password, "-p", "wrong"], capture_output=True)
    assert (right.returncode, wrong.returncode != 0) == (0, True), right.stderr


def view_definition(view: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_viewdef(%s::regclass)", [view])
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [view])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("view", list(COLUMNS))
def test_no_view_reads_accounts_totp_keys_sessions_or_logs(db, view):
    definition = view_definition(view)
    for table in ["accounts_", "twofactor_", "django_session", "audit_", "api_"]:
        assert table not in definition
    assert "mail_" in definition


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("column", ["bytes", "messages"])
def test_the_usage_table_refuses_a_negative_figure(db, column):
    """Whoever writes it (Dovecot's quota_clone, as the mail role), −5 is never stored, so
    it is never shown as storage used."""
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO mailserver_usage (address, {column}) VALUES (%s, %s)",  # noqa: S608
            ["ann@example.com", -5],
        )
    assert not MailboxUsage.objects.exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_mail_role_cannot_write_a_negative_figure(seeded, tmp_path):
    assert mailserver_config(argparse.Namespace(out=str(tmp_path), role="mailreader")) == 0
    with connect_as_role(tmp_path) as role:
        role.execute("INSERT INTO mailserver_usage (address, bytes) VALUES ('a@b.example', 10)")
        with pytest.raises(psycopg.errors.CheckViolation):
            role.execute("UPDATE mailserver_usage SET bytes = -5")
    assert MailboxUsage.objects.get().bytes == 10


def connect_as_role(out) -> psycopg.Connection:
    text = (out / "dovecot" / "sql.conf.ext").read_text()
    connect = re.search(r"^connect = (.*)$", text, re.M).group(1)
    return psycopg.connect(connect, autocommit=True)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_mail_role_reads_the_views_and_nothing_else(seeded, tmp_path):
    assert mailserver_config(argparse.Namespace(out=str(tmp_path), role="mailreader")) == 0
    assert (tmp_path / "dovecot" / "sql.conf.ext").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "postfix" / "aliases.cf").stat().st_mode & 0o777 == 0o600
    with connect_as_role(tmp_path) as role:
        assert role.execute("SELECT current_user").fetchone() == ("mailreader",)
        for view in COLUMNS:
            role.execute(f"SELECT * FROM {view}").fetchall()  # noqa: S608 - fixed names
        for table in [
            "accounts_account",
            "twofactor_totpdevice",
            "django_session",
            "audit_event",
            "mail_mailbox",
            "api_apitoken",
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                role.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed names
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            role.execute("UPDATE mail_mailbox SET active = true")
        for table in ["mail_apppassword", "mailbox_owners_with_2fa", "mailserver_mail_logins"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                role.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed names


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_mail_role_adds_mail_logins_and_keeps_the_guessing_counts(seeded, tmp_path):
    """What the auth policy server (mailserver.policy) writes, as the mail role."""
    assert mailserver_config(argparse.Namespace(out=str(tmp_path), role="mailreader")) == 0
    with connect_as_role(tmp_path) as role:
        role.execute(
            "INSERT INTO mailserver_mail_logins "
            "(at, address, credential, protocol, ip, success, throttled) "
            "VALUES (1, 'a@b.example', 'app:1', 'imap', '192.0.2.1', true, false)"
        )
        role.execute(
            "INSERT INTO mailserver_ip_auth_failures (ip, failures, last_failure) "
            "VALUES ('192.0.2.1', 1, 1)"
        )
        role.execute("DELETE FROM mailserver_ip_auth_failures")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            role.execute("DELETE FROM mailserver_mail_logins")
    assert MailLogin.objects.get().credential == "app:1"


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_running_the_role_command_again_gives_a_new_password_and_keeps_the_rights(seeded, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        assert mailserver_config(argparse.Namespace(out=str(out), role="mailreader")) == 0
    config = "dovecot/sql.conf.ext"
    assert (first / config).read_text() != (second / config).read_text()
    with connect_as_role(second) as role:
        assert len(role.execute("SELECT * FROM mailserver_domains").fetchall()) == 2


def public_relations() -> list[str]:
    """Tables and views of the panel (their identity sequences follow their tables)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p', 'm')"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def panel_role(seeded):
    """The README's setup: the panel connects as a role of its own (`createuser`, not a
    superuser) that owns the database and the contract views; the test's connection takes
    that role (SET ROLE) and gives everything back afterwards."""
    database = connection.settings_dict["NAME"]

    def become(*, createrole: bool) -> None:
        with connection.cursor() as cursor:
            option = "CREATEROLE" if createrole else "NOCREATEROLE"
            cursor.execute(f"CREATE ROLE panelowner NOLOGIN NOSUPERUSER {option}")
            cursor.execute(f'ALTER DATABASE "{database}" OWNER TO panelowner')
            for name in public_relations():
                cursor.execute(f'ALTER TABLE "{name}" OWNER TO panelowner')
            cursor.execute("SET ROLE panelowner")

    yield become
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f'ALTER DATABASE "{database}" OWNER TO postgres')
        for name in public_relations():
            cursor.execute(f'ALTER TABLE "{name}" OWNER TO postgres')
        for role in ["mailrole_of_panel", "panelowner"]:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone():
                cursor.execute(f"DROP OWNED BY {role}")
                cursor.execute(f"DROP ROLE {role}")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_panels_own_role_with_createrole_sets_up_the_mail_role_again_and_again(
    panel_role, tmp_path
):
    panel_role(createrole=True)
    for run in ["first", "second", "third"]:
        out = tmp_path / run
        assert mailserver_config(argparse.Namespace(out=str(out), role="mailrole_of_panel")) == 0
    with connect_as_role(tmp_path / "third") as role:
        assert role.execute("SELECT current_user").fetchone() == ("mailrole_of_panel",)
        assert len(role.execute("SELECT * FROM mailserver_domains").fetchall()) == 2
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            role.execute("SELECT * FROM accounts_account")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_panel_role_without_createrole_gets_one_line_saying_what_it_needs(
    panel_role, tmp_path, capsys
):
    panel_role(createrole=False)
    answer = mailserver_config(argparse.Namespace(out=str(tmp_path), role="mailrole_of_panel"))
    assert answer == 2
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1 and "Traceback" not in said
    assert "CREATEROLE" in said and "permission denied to create role" in said
    assert not (tmp_path / "dovecot").exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["postgres", "Robert'); DROP", "a b"])
def test_the_role_must_be_a_plain_name_of_its_own(db, tmp_path, name, capsys):
    assert mailserver_config(argparse.Namespace(out=str(tmp_path), role=name)) == 2
    assert capsys.readouterr().err.strip()
    assert not (tmp_path / "dovecot").exists()


def fill_the_domain(cursor) -> None:
    """300 aliases and 300 mailboxes in the seeded domain, counted by ANALYZE: reading all of
    its rows then costs more than the lookup index. With a handful of rows and no statistics
    the planner priced another index (domain_id) the same and sometimes chose it: a plan, not
    the view, is under test in the plan tests."""
    domain = Domain.objects.get(name="xn--bcher-kva.example")
    owners = Person.objects.bulk_create(Person(kind=PERSON_KIND) for _ in range(300))
    Mailbox.objects.bulk_create(
        Mailbox(
            person=owners[i],
            local_part=f"filler{i}",
            domain=domain,
            password_hash="{PLAIN}not-a-login",
            maildir=f"{domain.name}/filler{i}.{i:016x}/",
        )
        for i in range(300)
    )
    Alias.objects.bulk_create(
        Alias(
            local_part=f"filler{i}",
            domain=domain,
            lookup_address=f"filler{i}@{domain.name}",
            destinations=["info@xn--bcher-kva.example"],
        )
        for i in range(300)
    )
    for table in ("mail_alias", "mail_mailbox", "mail_domain"):
        cursor.execute(f"ANALYZE {table}")


@on_postgresql
@pytest.mark.parametrize("address", ["team@xn--bcher-kva.example", "@xn--bcher-kva.example"])
def test_an_alias_lookup_finds_its_rows_by_index_not_by_building_the_whole_view(seeded, address):
    """PostgreSQL pushes `address = …` into the branches of the view's UNION ALL (aliases, and
    catch-alls) only when both branches give `address` one type; otherwise every lookup built
    every alias's rows first (36 alias lookups/s with 2,000 aliases)."""
    with connection.cursor() as cursor:
        fill_the_domain(cursor)
        cursor.execute("SET LOCAL enable_seqscan = off")  # the index, however small the table
        cursor.execute(
            "EXPLAIN SELECT destination FROM mailserver_aliases WHERE address = %s AND active",
            [address],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Cond: ((lookup_address)::text = '{address}'::text)" in plan, plan
    assert "mailserver_aliases.address" not in plan, plan


@on_postgresql
def test_a_sender_login_lookup_finds_its_rows_by_index(seeded):
    """Postfix asks by (local_part, domain); the four branches of the view's UNION ALL (the
    mailboxes and aliases of a domain, and of an alias domain through the alias domain's
    unique name) reach their unique (lower(local_part), domain) index instead of building
    every row."""
    with connection.cursor() as cursor:
        fill_the_domain(cursor)
        cursor.execute("SET LOCAL enable_seqscan = off")  # the index, however small the table
        cursor.execute(
            "EXPLAIN SELECT login FROM mailserver_sender_logins "
            "WHERE local_part = %s AND domain = %s AND active",
            ["team", "xn--bcher-kva.example"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    conditions = [line for line in plan.splitlines() if "Index Cond:" in line]
    assert sum("lower((local_part)::text) = 'team'::text" in line for line in conditions) == 4, plan
    assert "Seq Scan" not in plan, plan
