"""The Users and Aliases pages, page by page across domains (issue 20: the last page of
100,000 mailboxes reads only its own domains' rows): every page shows its slice of the whole
list in order, the count is the whole list's, and a page past the end shows the last."""

import pytest

from adminpanel.mail import services as mail
from tests.integration.panel import log_in_admin
from tests.listing import bulk_aliases, bulk_mailboxes

# 1,056 rows: past the first 1,000 a page is found by counting per domain (pages.DEEP_ROWS).
SIZES = {"c.example": 30, "a.example": 1004, "empty.example": 0, "b.example": 22}


@pytest.fixture
def listed(admin) -> dict[str, list[str]]:
    rows = {"users": [], "aliases": []}
    for name, size in SIZES.items():
        domain = mail.create_domain(admin, name=name)
        rows["users"] += [(name, m.local_part) for m in bulk_mailboxes(domain, size)]
        rows["aliases"] += [(name, a.local_part) for a in bulk_aliases(domain, size)]
    return {
        kind: [f"{local}@{name}" for name, local in sorted(found)] for kind, found in rows.items()
    }


@pytest.mark.parametrize("kind", ["users", "aliases"])
def test_the_pages_show_the_whole_list_in_order_once(listed, kind):
    client = log_in_admin()
    shown = []
    for number in range(1, 44):
        page = client.get(f"/{kind}?page={number}").context["page"]
        assert page.paginator.count == 1056 and page.paginator.num_pages == 43
        shown += [row.address for row in page.object_list]
    assert shown == listed[kind]
    past = client.get(f"/{kind}?page=99").context["page"]
    assert [row.address for row in past.object_list] == listed[kind][1050:]
    assert "1056 " in client.get(f"/{kind}?page=43").content.decode()


def test_a_searched_list_counts_and_shows_its_matches_in_order(listed):
    client = log_in_admin()
    matching = [address for address in listed["users"] if "user10" in address]
    page = client.get("/users?q=user10").context["page"]
    assert page.paginator.count == len(matching) == 15 + 1 + 1  # a: user10, user10x, user100x
    assert [m.address for m in page.object_list] == matching
    page = client.get("/users?q=user10&page=2").context["page"]
    assert page.number == 1  # one page: asked past it, the last
