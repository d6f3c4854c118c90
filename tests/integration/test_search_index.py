"""The Users and Aliases searches at hosting scale (issue 20, mail.search): on SQLite a trigram
full-text index beside each table names the rows that may match, kept in step with the table by
triggers; on both databases a search finds exactly what `icontains` on every row finds."""

from functools import reduce
from operator import or_

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q

from adminpanel.mail import search, selectors
from adminpanel.mail import services as mail
from adminpanel.mail.models import Alias, Domain, Mailbox
from tests.customers import limited_subadmin
from tests.integration.panel import MAILBOX_PASSWORD, SUBADMIN_PASSWORD
from tests.listing import bulk_aliases, bulk_mailboxes

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's index")

# Display names with what a full-text query or LIKE treats specially, and letters that only
# some comparisons fold.
DISPLAY_NAMES = [
    "Anna Berg",
    "Über Mann",
    "ölaf Öberg",
    "50% off",
    "under_score",
    'say "hi" twice',
    "back\\slash",
    "emoji 😀 here",
    "née Smith",
    "NEAR(x) OR y*",
    "{local_part}: -^",
]
TERMS = [
    "anna",
    "ANNA",
    "na be",
    "berg",
    "über",
    "ÜBER",
    "Über",
    "öla",
    "ÖLA",
    "50%",
    "0% o",
    "r_s",
    '"hi"',
    'y "h',
    "k\\s",
    "😀",
    "i 😀 h",
    "née",
    "NÉE",
    "NEAR(",
    "OR y*",
    "{local_part}",
    ": -^",
    "mailbox3",
    "x",
    "an",
    "%",
    "_",
    "a.example",
    "ice.",
]


@pytest.fixture
def people(admin) -> list[Mailbox]:
    mail.create_domain(admin, name="a.example")
    mail.create_domain(admin, name="b.example")
    return [
        mail.create_mailbox(
            admin,
            address=f"mailbox{n}@{'ab'[n % 2]}.example",
            password=MAILBOX_PASSWORD,
            display_name=name,
        )
        for n, name in enumerate(DISPLAY_NAMES)
    ]


def _scanned(model, columns: tuple[str, ...], term: str) -> set[int]:
    """What icontains finds on every row, without any index's help."""
    found = reduce(or_, (Q(**{f"{column}__icontains": term}) for column in columns))
    return set(model.objects.filter(found).values_list("pk", flat=True))


@pytest.mark.parametrize("term", TERMS)
def test_a_search_finds_what_contains_finds_on_every_row(people, term):
    for columns in (("local_part",), ("display_name",), ("local_part", "display_name")):
        indexed = Mailbox.objects.filter(search.contains(Mailbox, columns, term))
        assert set(indexed.values_list("pk", flat=True)) == _scanned(Mailbox, columns, term)


def test_the_users_search_finds_names_addresses_and_domains(admin, people):
    def found(term: str) -> list[str]:
        return [m.address for m in selectors.mailboxes(admin, search=term)]

    assert found("ANNA") == ["mailbox0@a.example"]
    assert found('say "hi') == ["mailbox5@b.example"]
    assert found("mailbox1@b.example") == ["mailbox1@b.example"]
    assert found("mailbox3@a.example") == []
    assert found("box1@b") == ["mailbox1@b.example"]
    assert len(found("b.example")) == 5
    assert found("zzz") == []


@sqlite_only
def test_on_sqlite_a_search_of_three_characters_or_more_asks_the_index(admin, people):
    def sql(term: str) -> str:
        return str(selectors.mailboxes(admin, search=term).query)

    assert "mail_mailbox_search MATCH" in sql("anna")
    assert "mail_mailbox_search MATCH" in sql("ann@a.example")
    assert "mail_mailbox_search" not in sql("an")  # too short for trigrams: the plain LIKE
    assert "mail_alias_search MATCH" in str(selectors.aliases(admin, search="sales").query)


def _index_rows(table: str, columns: tuple[str, ...]) -> list[tuple]:
    with connection.cursor() as cursor:
        listed = ", ".join(columns)
        cursor.execute(f"SELECT rowid, {listed} FROM {table}_search ORDER BY rowid")  # noqa: S608
        return cursor.fetchall()


def _table_rows(model, columns: tuple[str, ...]) -> list[tuple]:
    return list(model._base_manager.order_by("pk").values_list("pk", *columns))  # deleted too


def assert_in_step():
    for model, columns in ((Mailbox, ("local_part", "display_name")), (Alias, ("local_part",))):
        assert _index_rows(model._meta.db_table, columns) == _table_rows(model, columns)


@sqlite_only
def test_the_index_follows_every_change_of_mailboxes_and_aliases(admin, people):
    assert_in_step()
    renamed = mail.update_mailbox(
        admin, people[0], address="zara.quinn@b.example", display_name="Zara Quinn"
    )
    assert [m.address for m in selectors.mailboxes(admin, search="quinn")] == [renamed.address]
    assert not selectors.mailboxes(admin, search="Anna Berg").exists()
    alias = mail.create_alias(admin, address="sales@a.example", destinations=["mailbox2@a.example"])
    assert list(selectors.aliases(admin, search="sale")) == [alias]
    mail.delete_alias(admin, alias)
    assert not selectors.aliases(admin, search="sale").exists()
    mail.delete_mailbox(admin, people[2])  # kept until its purge: still a row
    people[4].delete()  # purged: the row goes
    assert_in_step()


def test_a_limited_sub_admins_search_never_reaches_another_domain(admin, people):
    desk = limited_subadmin(admin, "desk", ["a.example"], password=SUBADMIN_PASSWORD)
    found = [m.address for m in selectors.mailboxes(desk, search="mailbox")]
    assert found and all(address.endswith("@a.example") for address in found)
    assert not selectors.mailboxes(desk, search="mailbox1@b.example").exists()


@sqlite_only
def test_after_a_migrate_lost_triggers_are_made_again_and_the_index_refilled(
    transactional_db, admin, people
):
    # What SQLite's copy-and-drop of a table in a later migration does to its triggers.
    with connection.cursor() as cursor:
        for name in search.INDEXES["mail_mailbox"].triggers:
            cursor.execute(f"DROP TRIGGER {name}")
    unseen = mail.create_mailbox(
        admin, address="late@a.example", password=MAILBOX_PASSWORD, display_name="Late Comer"
    )
    assert not selectors.mailboxes(admin, search="comer").exists()
    call_command("migrate", verbosity=0)
    assert list(selectors.mailboxes(admin, search="comer")) == [unseen]
    assert_in_step()


@sqlite_only
def test_on_sqlite_a_search_reads_the_index_not_every_mailbox(admin):
    for n in range(30):
        domain = Domain.objects.create(name=f"d{n}.example")
        bulk_mailboxes(domain, 100)
        bulk_aliases(domain, 30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    for query in (
        selectors.mailboxes(admin, search="user42"),
        selectors.aliases(admin, search="team7"),
    ):
        for sql, params in (
            query.query.sql_with_params(),
            query.order_by().values("pk").query.sql_with_params(),
        ):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            assert "VIRTUAL TABLE" in plan, plan
            assert "SCAN mail_mailbox\n" not in plan + "\n" and "SCAN mail_alias\n" not in plan
    assert selectors.mailboxes(admin, search="user42").count() == 30
