"""Bad input in the search box of every list: a clear answer, never a 500 (SPEC §6, §7)."""

import pytest

from tests.integration.panel import log_in_admin, make_admin, make_subadmin, seed_mail

LISTS = ["/domains", "/users", "/aliases", "/subadmins"]
API_LISTS = ["/api/v1/domains", "/api/v1/users", "/api/v1/aliases", "/api/v1/subadmins"]


@pytest.fixture
def admin(db):
    admin = make_admin()
    seed_mail(admin)
    make_subadmin(admin, "sub")
    return admin


@pytest.mark.parametrize("url", LISTS)
def test_a_nul_character_in_the_search_box_is_ignored(admin, url):
    client = log_in_admin()
    response = client.get(url, {"q": "ex\x00ample"})
    assert response.status_code == 200
    assert response.content.count(b"\x00") == 0


@pytest.mark.parametrize("url", LISTS)
def test_a_search_of_only_a_nul_character_lists_everything(admin, url):
    client = log_in_admin()
    plain = client.get(url)
    response = client.get(url, {"q": "\x00"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == plain.context["page"].paginator.count
