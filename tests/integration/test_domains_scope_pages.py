"""A Sub-Admin limited to some domains, in the web pages, tried as an attacker would (SPEC §17):
customer A's helpdesk (limited to a.example, Delete everywhere) types customer B's ids into URLs
and B's addresses into forms, query strings and CSV imports. Every page of a B object answers
404 like a missing id, no list, search, export, Logs page or Home shows B, nothing of B changes.
The Sub-Admin form's Domains scope, and the Admin's pages, unchanged."""

import re

import pytest

from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from adminpanel.mail.models import Alias, Domain, Mailbox, ScopedDomain
from tests.customers import Customer, customer, limited_subadmin, state_of
from tests.integration.panel import SUBADMIN_PASSWORD, log_in_admin, signed_in, text

pytestmark = pytest.mark.django_db

MISSING = 987654321


@pytest.fixture
def customers(admin) -> dict[str, Customer]:
    return {"a": customer(admin, "a"), "b": customer(admin, "b")}


@pytest.fixture
def helpdesk(admin, customers) -> Account:
    return limited_subadmin(admin, "helpdesk-a", ["a.example"], password=SUBADMIN_PASSWORD)


@pytest.fixture
def desk(helpdesk):
    """The helpdesk's browser, signed in through /login."""
    return signed_in("helpdesk-a")


def shows_b(page: str) -> bool:
    return "b.example" in page or "b-alias" in page


def unmasked(response) -> str:
    """The page without its CSRF token, which is masked afresh in every response."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/domains",
        "/domains?q=b",
        "/users",
        "/users?q=b.example",
        "/users?q=ceo",
        "/users?domain=b.example",
        "/aliases",
        "/aliases?q=sales",
        "/users/deleted",
        "/users/deleted?q=gone",
        "/logs",
        "/logs?text=b.example",
        "/logs?event=mailbox_created",
        "/logs?actor=ceo@b.example",
        "/users/add",
        "/aliases/add",
    ],
)
def test_no_page_shows_another_domain(desk, url):
    response = desk.get(url)
    assert response.status_code == 200, url
    page = text(response)
    for typed in re.findall(r"=([^&]+)", url):  # the search box shows what was typed
        page = page.replace(typed, "").replace(typed.replace("@", "%40"), "")
    assert not shows_b(page), url


def test_its_lists_show_and_count_its_own_domain(desk):
    users = text(desk.get("/users"))
    assert "ceo@a.example" in users and re.search(r">\s*1 mailbox\s*<", users)
    domains = text(desk.get("/domains"))
    assert "a.example" in domains and "a-alias.example" in domains
    assert "gone@a.example" in text(desk.get("/users/deleted"))


def test_the_csv_exports_list_only_its_domain(desk):
    exported = b"".join(desk.get("/users/export.csv").streaming_content).decode()
    assert exported.splitlines()[1:] == ["ceo@a.example,CEO,,1024"]
    logs = b"".join(desk.get("/logs.csv").streaming_content).decode()
    assert "a.example" in logs and not shows_b(logs)
    assert "subadmin_created" not in logs  # not another account's events either


def _pages(b: Customer) -> list[tuple[str, str, dict]]:
    d, m, a = b.domain.pk, b.mailbox.pk, b.alias.pk
    return [
        ("get", f"/domains/{d}", {}),
        ("post", f"/domains/{d}", {"active": "", "catch_all": "x@elsewhere.test"}),
        ("get", f"/domains/{d}/delete", {}),
        ("post", f"/domains/{d}/delete", {"cascade": "on"}),
        ("get", f"/domains/{d}/dns", {}),
        ("post", f"/domains/{d}/dkim/rotate", {}),
        ("post", f"/domains/{d}/dkim/remove-old-key", {}),
        ("get", f"/users/{m}", {}),
        ("post", f"/users/{m}", {"address": "ceo@b.example", "password": "Attacker-Pass-99x"}),
        ("get", f"/users/{m}/delete", {}),
        ("post", f"/users/{m}/delete", {}),
        ("post", f"/users/{m}/forwarding", {"destinations": "thief@elsewhere.test"}),
        ("post", f"/users/{m}/automatic-reply", {"enabled": "on", "text": "Gone"}),
        ("post", f"/users/{m}/revoke-app-passwords", {}),
        ("get", f"/users/{m}/reset-2fa", {}),
        ("post", f"/users/{m}/reset-2fa", {}),
        ("post", f"/users/deleted/{b.deleted.pk}/restore", {}),
        ("get", f"/users/deleted/{b.deleted.pk}/purge", {}),
        ("post", f"/users/deleted/{b.deleted.pk}/purge", {}),
        ("get", f"/aliases/{a}", {}),
        ("post", f"/aliases/{a}", {"destinations": "thief@elsewhere.test", "active": "on"}),
        ("get", f"/aliases/{a}/delete", {}),
        ("post", f"/aliases/{a}/delete", {}),
        ("get", f"/domains/alias-domains/{b.alias_domain.pk}/delete", {}),
        ("post", f"/domains/alias-domains/{b.alias_domain.pk}/delete", {}),
    ]


def test_every_page_of_another_domains_object_answers_404_and_changes_nothing(desk, customers):
    b = customers["b"]
    before = state_of(b.domain)
    events = Event.objects.count()
    for method, url, data in _pages(b):
        number = next(int(part) for part in url.split("/") if part.isdigit())
        response = getattr(desk, method)(url, data)
        missing = getattr(desk, method)(url.replace(str(number), str(MISSING)), data)
        assert response.status_code == 404, (method, url, response.status_code)
        # The same page as for an id nobody has: nothing tells that this one exists.
        assert unmasked(response) == unmasked(missing), (method, url)
    assert state_of(b.domain) == before
    assert Event.objects.count() == events


def test_it_has_no_add_domain_and_adding_one_is_refused(desk):
    page = text(desk.get("/domains"))
    assert "Add Domain" not in page and "Add alias domain" not in page
    assert desk.get("/domains/add").status_code == 403
    assert desk.post("/domains/add", {"name": "new.example", "active": "on"}).status_code == 403
    assert desk.get("/domains/alias-domains/add").status_code == 403
    added = desk.post("/domains/alias-domains/add", {"name": "a2.example", "target": "a.example"})
    assert added.status_code == 403
    assert not Domain.objects.filter(name="new.example").exists()
    # Mailboxes and aliases of its own domain it does add.
    assert "Add Mailbox" in text(desk.get("/users"))


def test_the_domain_picker_offers_only_its_domains(desk):
    page = text(desk.get("/users/add"))
    assert '<option value="a.example">' in page and not shows_b(page)


def test_another_domains_address_in_a_form_reads_as_no_such_domain(desk, customers):
    before = state_of(customers["b"].domain)
    new = {"password": "Mailbox-Pass-77x", "quota_mb": "1024", "active": "on"}
    typed = desk.post("/users/add", {**new, "address": "ceo@b.example"})
    unknown = desk.post("/users/add", {**new, "address": "ceo@zz.example"})
    assert typed.status_code == unknown.status_code == 400
    assert "There is no domain b.example. Add the domain first." in text(typed)
    picked = desk.post("/users/add", {**new, "address": "intruder", "domain": "b.example"})
    assert picked.status_code == 400
    assert "Select a valid choice. b.example is not one of the available choices." in text(picked)
    alias = desk.post("/aliases/add", {"address": "ceo@b.example", "destinations": "x@a.example"})
    assert "There is no domain b.example." in text(alias)
    assert state_of(customers["b"].domain) == before


def test_a_rename_into_another_domain_is_refused(desk, customers):
    mailbox = customers["a"].mailbox
    response = desk.post(
        f"/users/{mailbox.pk}",
        {"address": "ceo@b.example", "keep_old_address_as_alias": "on", "quota_mb": "1024"},
    )
    assert response.status_code == 400
    assert "There is no domain b.example. Add the domain first." in text(response)
    mailbox.refresh_from_db()
    assert mailbox.address == "ceo@a.example"


def test_alias_and_forwarding_destinations_in_another_domain_are_refused(desk, customers):
    a = customers["a"]
    alias = desk.post(
        "/aliases/add", {"address": "leak@a.example", "destinations": "ceo@b.example"}
    )
    assert alias.status_code == 400
    assert "Mail to b.example stays on this mail server, in a domain outside your domains" in (
        text(alias)
    )
    forwarding = desk.post(
        f"/users/{a.mailbox.pk}/forwarding", {"destinations": "someone@b-alias.example"}
    )
    assert forwarding.status_code == 400
    assert not Alias.objects.filter(local_part="leak").exists()
    outside = desk.post(
        "/aliases/add", {"address": "team@a.example", "destinations": "friend@elsewhere.test"}
    )
    assert outside.status_code == 302


def test_a_csv_import_naming_another_domain_saves_nothing(desk):
    csv_text = "address,display_name,password,quota_mb\nnew@a.example,,,\nceo@b.example,,,\n"
    preview = desk.post("/users/import", {"csv_text": csv_text, "step": "import"})
    assert preview.status_code == 400
    assert "There is no domain b.example. Add the domain first." in text(preview)
    assert not Mailbox.objects.filter(local_part="new").exists()


# --- the Admin's Sub-Admin form ----------------------------------------------------------


def subadmin_form(**overrides) -> dict:
    data = {
        "username": "carol",
        "password": SUBADMIN_PASSWORD,
        "active": "on",
        "web_access": "on",
        "domains": "1",
        "users": "2",
        "aliases": "0",
        "logs": "0",
        "domains_scope": "all",
    }
    data.update(overrides)
    return data


@pytest.fixture
def admin_client(admin):
    return log_in_admin()


def test_the_form_has_a_domains_scope_with_all_domains_and_a_labelled_pick(admin_client, customers):
    page = text(admin_client.get("/subadmins/add"))
    assert "<legend>Domains scope</legend>" in page
    assert re.search(r'<input type="radio" name="domains_scope" value="all"[^>]*checked', page)
    assert re.search(r'<label for="id_domains_scope_0">All domains</label>', page)
    for name in ("a.example", "b.example"):
        box = re.search(
            rf'<input type="checkbox" name="scope_domains" value="{name}" id="([^"]+)"', page
        )
        assert box and f'<label for="{box.group(1)}">{name}</label>' in page
    assert '<label for="id_scope_filter">Filter domains</label>' in page


def test_the_admin_limits_a_subadmin_to_chosen_domains(admin_client, customers):
    response = admin_client.post(
        "/subadmins/add", subadmin_form(domains_scope="some", scope_domains=["b.example"])
    )
    assert response.status_code == 302
    carol = Account.objects.get(username="carol")
    assert not carol.all_domains
    assert list(
        ScopedDomain.objects.filter(account=carol).values_list("domain__name", flat=True)
    ) == ["b.example"]
    edit = text(admin_client.get(f"/subadmins/{carol.pk}"))
    assert re.search(r'value="some"[^>]*checked', edit)
    # The chosen domain comes first and is ticked.
    boxes = re.findall(r'<input type="checkbox" name="scope_domains" value="([^"]+)"([^>]*)>', edit)
    assert boxes[0][0] == "b.example" and "checked" in boxes[0][1]
    assert "checked" not in boxes[1][1]
    listed = text(admin_client.get("/subadmins"))
    assert '<td data-label="Domains scope">1 domain: b.example</td>' in listed
    back = admin_client.post(f"/subadmins/{carol.pk}", subadmin_form(password=""))
    assert back.status_code == 302
    carol.refresh_from_db()
    assert carol.all_domains and not ScopedDomain.objects.filter(account=carol).exists()


@pytest.mark.parametrize(
    "chosen, message",
    [
        (["nowhere.example"], "Select a valid choice. nowhere.example is not one of the"),
        ([], "Choose at least one domain, or All domains."),
    ],
)
def test_a_scope_of_unknown_or_no_domains_is_refused_and_nothing_stored(
    admin_client, customers, chosen, message
):
    response = admin_client.post(
        "/subadmins/add", subadmin_form(domains_scope="some", scope_domains=chosen)
    )
    assert response.status_code == 400
    assert message in text(response)
    assert not Account.objects.filter(username="carol").exists()


def test_the_admin_still_sees_every_domain(admin_client, customers):
    page = text(admin_client.get("/users"))
    assert "ceo@a.example" in page and "ceo@b.example" in page
    assert admin_client.get(f"/users/{customers['b'].mailbox.pk}").status_code == 200
    assert "Add Domain" in text(admin_client.get("/domains"))
