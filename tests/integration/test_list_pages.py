"""The Users and Aliases pages, page by page across domains (issue 20: the last page of
100,000 mailboxes reads only its own domains' rows): every page shows its slice of the whole
list in order, the count is the whole list's, and a page past the end shows the last."""

import pytest

from adminpanel.mail import services as mail
from tests.integration.panel import log_in_admin
from tests.listing import bulk_aliases, bulk_mailboxes

SIZES = {"c.example": 30, "a.example": 4, "empty.example": 0, "b.example": 22}  # 56 rows


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
    for number in (1, 2, 3):
        page = client.get(f"/{kind}?page={number}").context["page"]
        assert page.paginator.count == 56 and page.paginator.num_pages == 3
        shown += [row.address for row in page.object_list]
    assert shown == listed[kind]
    past = client.get(f"/{kind}?page=9").context["page"]
    assert [row.address for row in past.object_list] == listed[kind][50:]
    assert "56 " in client.get(f"/{kind}?page=3").content.decode()


def test_a_searched_list_counts_and_shows_its_matches_in_order(listed):
    client = log_in_admin()
    matching = [address for address in listed["users"] if "user1" in address]  # user1, user1x
    page = client.get("/users?q=user1").context["page"]
    assert page.paginator.count == len(matching) == 23
    assert [m.address for m in page.object_list] == matching
    page = client.get("/users?q=user2&page=2").context["page"]  # user2, user2x: 11 + 1 + 3
    assert page.paginator.count == 15 and page.number == 1  # one page: asked past it, the last
