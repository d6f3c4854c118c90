"""GET /api/v1/users and /aliases at any offset (issue 20: `?offset=99900`): each page is
read by counting the list per domain and reading only the domains the page falls in; every
page, however it falls across domains, is exactly that slice of the whole list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adminpanel.mail import services as mail
from adminpanel.mail.models import Domain
from tests.api.client import PASSWORD, Api
from tests.customers import limited_subadmin
from tests.listing import bulk_aliases, bulk_mailboxes

# Past the first 1,000 rows a page is found by counting per domain (pages.DEEP_ROWS): the
# domains' borders fall there. Made in another order than their names', so that the domains'
# ids are not the list's order.
SIZES = {"d.example": 30, "b.example": 5, "empty.example": 0, "a.example": 1003, "c.example": 20}
WHOLE = 1058
OFFSETS = [0, 1, 999, 1000, 1001, 1002, 1003, 1004, 1007, 1008, 1009, 1027, 1028, 1057, 1058, 5000]
LIMITS = [1, 7, 25, 200]


@pytest.fixture
def listed(admin) -> dict:
    rows = {"users": [], "aliases": []}
    for name, size in SIZES.items():
        domain = mail.create_domain(admin, name=name)
        rows["users"] += [(name, m.local_part, m.pk) for m in bulk_mailboxes(domain, size)]
        rows["aliases"] += [(name, a.local_part, a.pk) for a in bulk_aliases(domain, size)]
    gone = mail.create_mailbox(admin, address="gone@b.example", password=PASSWORD)
    mail.delete_mailbox(admin, gone)  # not listed
    return {kind: [pk for *_, pk in sorted(found)] for kind, found in rows.items()}


def _ids(api: Api, path: str) -> tuple[list[int], int]:
    answer = api.get(path)
    assert answer.status == 200, answer.body
    return [item["id"] for item in answer.body["items"]], answer.body["total"]


@pytest.mark.parametrize("kind", ["users", "aliases"])
def test_every_offset_and_limit_gives_that_slice_of_the_list(admin_api, listed, kind):
    whole = listed[kind]
    assert len(whole) == WHOLE
    for offset in OFFSETS:
        for limit in LIMITS:
            found, total = _ids(admin_api, f"/{kind}?offset={offset}&limit={limit}")
            assert (found, total) == (whole[offset : offset + limit], WHOLE), (offset, limit)


def test_a_search_and_a_domain_filter_page_the_same_way(admin_api, listed):
    for query, size in (
        ("search=user", WHOLE),
        ("search=user1", 114 + 1 + 11 + 11),
        ("domain=a.example", 1003),
    ):
        whole = []
        while len(whole) < size:
            found, total = _ids(admin_api, f"/users?{query}&offset={len(whole)}&limit=200")
            assert total == size and found
            whole += found
        assert whole == [pk for pk in listed["users"] if pk in set(whole)]
        for offset in (0, 999, 1000, 1001, 1002, 1003, 1004, 1008, 1057):
            found, total = _ids(admin_api, f"/users?{query}&offset={offset}&limit=5")
            assert (found, total) == (whole[offset : offset + 5], size)


def test_a_limited_sub_admin_pages_through_its_domains_only(admin, listed):
    limited_subadmin(admin, "desk", ["c.example", "a.example"], password=PASSWORD, api_access=True)
    desk = Api()
    assert desk.login("desk").status == 200
    a_and_c = listed["users"][:1003] + listed["users"][1008:1028]
    for offset in (0, 999, 1000, 1002, 1003, 1004, 1022, 1023):
        found, total = _ids(desk, f"/users?offset={offset}&limit=3")
        assert (found, total) == (a_and_c[offset : offset + 3], 1023)
    assert _ids(desk, "/users?search=user1&domain=b.example") == ([], 0)


def _page_reads(api: Api, path: str) -> tuple[list[int], list[str]]:
    """A page's ids, and the SQL of its reads of the list's rows (ordered)."""
    with CaptureQueriesContext(connection) as queries:
        found, _ = _ids(api, path)
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "mail_mailbox"') and "ORDER BY" in q["sql"]
    ]
    return found, reads


def test_a_deep_page_of_a_search_reads_the_rows_of_its_own_domain_only(admin_api, listed):
    d = Domain.objects.get(name="d.example")  # the last in the list
    found, reads = _page_reads(admin_api, "/users?search=user&offset=1057&limit=1")
    assert found == listed["users"][1057:]
    assert reads and all(f'"domain_id" IN ({d.pk})' in sql for sql in reads), reads


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite walks its index in order")
def test_on_postgresql_a_deep_page_reads_the_rows_of_its_own_domain_only(admin_api, listed):
    d = Domain.objects.get(name="d.example")
    found, reads = _page_reads(admin_api, "/users?offset=1057&limit=1")
    assert found == listed["users"][1057:]
    assert reads and all(f'"domain_id" IN ({d.pk})' in sql for sql in reads), reads


def test_every_page_of_a_search_of_few_rows_is_read_by_its_domains(admin_api, listed):
    # PostgreSQL's generic plan of the prepared search (after 5 uses) walked the whole list in
    # its order to fill a page of rare matches; by its domains, it reads only theirs.
    for _ in range(12):
        found, reads = _page_reads(admin_api, "/users?search=user1000")
        assert len(found) == 1 and found[0] in listed["users"]
        assert reads and all('"domain_id" IN (' in sql for sql in reads), reads
