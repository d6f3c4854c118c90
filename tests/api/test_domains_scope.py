"""A Sub-Admin limited to some domains, through the API, tried as an attacker would (SPEC §17):
customer A's helpdesk account (limited to a.example, Delete in every section) reaching for
customer B's objects by id, by address, in query strings, bodies, CSV imports, rename targets
and alias destinations. Every object of b.example answers 404 like an id that does not exist,
no list, count, search, export or log shows it, and nothing of it changes."""

import pytest
from django.db import connection

from adminpanel import clock
from adminpanel.accounts import api_keys
from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from adminpanel.mail import leaving, selectors
from adminpanel.mail.models import Domain, Mailbox, ScopedDomain
from adminpanel.people.models import Person
from tests.api.client import PASSWORD
from tests.customers import Customer, customer, limited_subadmin, state_of

pytestmark = pytest.mark.django_db

MISSING = 987654321  # an id no object has


@pytest.fixture
def customers(admin) -> dict[str, Customer]:
    return {"a": customer(admin, "a"), "b": customer(admin, "b")}


@pytest.fixture
def helpdesk(admin, customers) -> Account:
    return limited_subadmin(
        admin, "helpdesk-a", ["a.example"], password=PASSWORD, api_access=True, web_access=False
    )


@pytest.fixture
def helpdesk_api(api, helpdesk):
    assert api.login("helpdesk-a").status == 200
    return api


def names(answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [
        item.get("address") or item.get("name") or item.get("deleted_address")
        for item in answer.body["items"]
    ]


def test_lists_and_their_totals_show_only_its_domains(helpdesk_api, admin_api):
    assert names(helpdesk_api.get("/domains")) == ["a.example"]
    assert helpdesk_api.get("/domains").body["total"] == 1
    assert names(helpdesk_api.get("/users")) == ["ceo@a.example"]
    assert helpdesk_api.get("/users").body["total"] == 1
    assert names(helpdesk_api.get("/aliases")) == ["sales@a.example"]
    assert names(helpdesk_api.get("/alias-domains")) == ["a-alias.example"]
    deleted = helpdesk_api.get("/users/deleted")
    assert deleted.body["total"] == 1 and "gone@a.example" in str(deleted.body)
    assert "b.example" not in str(deleted.body)
    # The Admin sees both customers.
    assert admin_api.get("/users").body["total"] == 2
    assert admin_api.get("/domains").body["total"] == 2


@pytest.mark.parametrize(
    "query",
    [
        "/users?search=b.example",
        "/users?search=ceo@b",
        "/users?domain=b.example",
        "/users?search=CEO",
        "/aliases?domain=b.example",
        "/aliases?search=sales",
        "/domains?search=b.example",
        "/alias-domains?search=b",
        "/users/deleted?search=gone",
    ],
)
def test_searches_and_filters_never_find_another_domain(helpdesk_api, query):
    answer = helpdesk_api.get(query)
    assert answer.status == 200
    assert "b.example" not in str(answer.body) and "b-alias" not in str(answer.body)


def test_the_csv_export_lists_only_its_mailboxes(helpdesk_api):
    response = helpdesk_api.client.get(
        "/api/v1/users/export", headers={"Authorization": f"Bearer {helpdesk_api.token}"}
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[1:] == ["ceo@a.example,CEO,,1024"]


def _paths(b: Customer) -> list[tuple[str, str, object]]:
    """Every API path that names one object, with another customer's id in it."""
    domain, mailbox, alias = b.domain.pk, b.mailbox.pk, b.alias.pk
    return [
        ("GET", f"/domains/{domain}", None),
        ("PATCH", f"/domains/{domain}", {"active": False}),
        ("DELETE", f"/domains/{domain}?cascade=true", None),
        ("GET", f"/domains/{domain}/dns", None),
        ("POST", f"/domains/{domain}/dkim/rotate", None),
        ("POST", f"/domains/{domain}/dkim/remove-old-key", None),
        ("GET", f"/users/{mailbox}", None),
        ("PATCH", f"/users/{mailbox}", {"password": "an-attackers-new-passphrase"}),
        ("PATCH", f"/users/{mailbox}", {"address": "ceo2@a.example"}),
        ("DELETE", f"/users/{mailbox}", None),
        ("GET", f"/users/{mailbox}/forwarding", None),
        ("PUT", f"/users/{mailbox}/forwarding", {"destinations": ["thief@elsewhere.test"]}),
        ("GET", f"/users/{mailbox}/automatic-reply", None),
        ("PUT", f"/users/{mailbox}/automatic-reply", {"enabled": True, "text": "Gone"}),
        ("POST", f"/users/{mailbox}/revoke-app-passwords", None),
        ("POST", f"/users/{mailbox}/reset-2fa", None),
        ("POST", f"/users/{b.deleted.pk}/restore", None),
        ("DELETE", f"/users/deleted/{b.deleted.pk}", None),
        ("GET", f"/aliases/{alias}", None),
        ("PATCH", f"/aliases/{alias}", {"destinations": ["thief@elsewhere.test"]}),
        ("DELETE", f"/aliases/{alias}", None),
        ("GET", f"/alias-domains/{b.alias_domain.pk}", None),
        ("PATCH", f"/alias-domains/{b.alias_domain.pk}", {"active": False}),
        ("DELETE", f"/alias-domains/{b.alias_domain.pk}", None),
    ]


def test_every_path_to_another_domains_object_answers_404_and_changes_nothing(
    helpdesk_api, customers
):
    b = customers["b"]
    before = state_of(b.domain)
    events = Event.objects.count()
    for method, path, body in _paths(b):
        answer = helpdesk_api.call(method, path, body)
        # Exactly what an id that does not exist gets: no hint that this one does.
        missing = helpdesk_api.call(method, path.replace(str(_id_in(path)), str(MISSING)), body)
        assert (answer.status, answer.body) == (404, missing.body), (method, path, answer.body)
        assert missing.status == 404
    assert state_of(b.domain) == before
    assert Event.objects.count() == events  # nothing done, nothing logged


def _id_in(path: str) -> int:
    return next(int(part.split("?")[0]) for part in path.split("/") if part.split("?")[0].isdigit())


def test_it_cannot_add_a_domain_nor_an_alias_domain(helpdesk_api):
    answer = helpdesk_api.post("/domains", {"name": "new-customer.example"})
    assert (answer.status, answer.error) == (403, "permission_denied")
    assert "All domains" in answer.body["message"]
    answer = helpdesk_api.post("/alias-domains", {"name": "a-too.example", "target": "a.example"})
    assert (answer.status, answer.error) == (403, "permission_denied")
    assert not Domain.objects.filter(name="new-customer.example").exists()


def test_another_domains_address_reads_as_no_such_domain(helpdesk_api, customers):
    before = state_of(customers["b"].domain)
    new = {"address": "intruder@b.example", "password": "a-long-mailbox-passphrase"}
    taken = helpdesk_api.post("/users", new)
    unknown = helpdesk_api.post("/users", {**new, "address": "intruder@nowhere.example"})
    assert taken.status == unknown.status == 422
    assert taken.body["message"] == unknown.body["message"].replace("nowhere", "b")
    # Even the address that exists there: not "already a mailbox".
    existing = helpdesk_api.post("/users", {**new, "address": "ceo@b.example"})
    assert existing.status == 422 and "There is no domain b.example" in existing.body["message"]
    alias = helpdesk_api.post(
        "/aliases", {"address": "ceo@b.example", "destinations": ["x@a.example"]}
    )
    assert alias.status == 422 and "There is no domain b.example" in alias.body["message"]
    assert state_of(customers["b"].domain) == before


def test_a_mailbox_cannot_be_renamed_into_another_domain(helpdesk_api, customers):
    mailbox = customers["a"].mailbox
    moved = helpdesk_api.patch(
        f"/users/{mailbox.pk}", {"address": "ceo@b.example", "keep_old_address_as_alias": True}
    )
    assert moved.status == 422 and "There is no domain b.example" in moved.body["message"]
    mailbox.refresh_from_db()
    assert mailbox.address == "ceo@a.example"
    # Within its domains a rename works.
    renamed = helpdesk_api.patch(f"/users/{mailbox.pk}", {"address": "boss@a.example"})
    assert renamed.status == 200 and renamed.body["address"] == "boss@a.example"


def test_a_csv_import_with_another_domains_line_saves_nothing(helpdesk_api):
    csv = (
        "address,display_name,password,quota_mb\n"
        "new@a.example,New,,100\n"
        "ceo@b.example,Intruder,,100\n"
    )
    answer = helpdesk_api.post("/users/import", {"csv": csv, "dry_run": False})
    assert answer.status == 422
    assert {"line": 3, "message": "There is no domain b.example. Add the domain first."} in (
        answer.body["errors"]
    )
    assert not Mailbox.objects.filter(local_part="new").exists()
    assert Mailbox.objects.filter(domain__name="b.example", local_part="ceo").count() == 1


@pytest.mark.parametrize(
    "destination",
    ["ceo@b.example", "anyone@b.example", "CEO@B.EXAMPLE", "ceo@b-alias.example"],
)
def test_its_aliases_forwardings_and_catch_alls_never_deliver_into_another_domain(
    helpdesk_api, customers, destination
):
    a = customers["a"]
    refusals = [
        helpdesk_api.post("/aliases", {"address": "leak@a.example", "destinations": [destination]}),
        helpdesk_api.patch(f"/aliases/{a.alias.pk}", {"destinations": [destination]}),
        helpdesk_api.put(f"/users/{a.mailbox.pk}/forwarding", {"destinations": [destination]}),
        helpdesk_api.patch(f"/domains/{a.domain.pk}", {"catch_all": destination}),
    ]
    for answer in refusals:
        assert answer.status == 422, answer.body
        assert "outside your domains" in answer.body["message"]
    a.alias.refresh_from_db()
    a.domain.refresh_from_db()
    assert a.alias.destinations == ["ceo@a.example"] and a.domain.catch_all == ""
    assert not Mailbox.objects.filter(local_part="leak").exists()


def test_its_aliases_deliver_to_its_domains_and_to_the_outside_world(helpdesk_api, customers):
    answer = helpdesk_api.post(
        "/aliases",
        {"address": "team@a.example", "destinations": ["ceo@a.example", "someone@gmail.test"]},
    )
    assert answer.status == 201, answer.body
    forwarding = helpdesk_api.put(
        f"/users/{customers['a'].mailbox.pk}/forwarding", {"destinations": ["me@elsewhere.test"]}
    )
    assert forwarding.status == 200


def test_the_logs_hold_only_its_domains_events(helpdesk_api, customers):
    answer = helpdesk_api.get("/logs?limit=200")
    assert answer.status == 200
    text = str(answer.body)
    assert "a.example" in text and "b.example" not in text and "b-alias" not in text
    # Not the other Sub-Admins' or the Admin's own events either (its own sign-in: yes).
    assert {item["actor"] for item in answer.body["items"]} <= {
        "admin",
        "helpdesk-a",
        "ceo@a.example",
    }
    seen = {item["event"] for item in answer.body["items"]}
    assert {"api_login", "mailbox_login", "mail_login", "mailbox_created"} <= seen
    assert "subadmin_created" not in {item["event"] for item in answer.body["items"]}
    for query in ("?event=mailbox_created", "?actor=ceo@b.example", "?event=mail_login"):
        found = helpdesk_api.get("/logs" + query)
        assert "b.example" not in str(found.body)
    assert helpdesk_api.get("/logs?actor=ceo@b.example").body["total"] == 0


def test_an_api_key_of_a_limited_subadmin_is_limited_too(api, admin, helpdesk, customers):
    key = api_keys.create_key(
        admin, name="Helpdesk tool", subadmin=helpdesk.pk, now=clock.now()
    ).key
    assert names(api.get("/users", token=key)) == ["ceo@a.example"]
    assert api.get(f"/users/{customers['b'].mailbox.pk}", token=key).status == 404
    assert api.get(f"/domains/{customers['b'].domain.pk}/dns", token=key).status == 404
    assert api.post("/domains", {"name": "x.example"}, token=key).status == 403
    assert api.get("/me", token=key).body["domains_scope"] == ["a.example"]


def test_the_admin_and_an_all_domains_subadmin_are_unchanged(api, admin_api, admin, customers):
    from_service = admin_api.post(
        "/subadmins",
        {"username": "everything", "password": PASSWORD, "access": {"api": True},
         "permissions": {"domains": "delete", "users": "delete", "aliases": "delete"}},
    )  # fmt: skip
    assert from_service.status == 201 and from_service.body["domains_scope"] == "all"
    assert api.login("everything").status == 200
    assert api.get("/users").body["total"] == 2
    assert api.get(f"/users/{customers['b'].mailbox.pk}").status == 200
    assert api.post("/domains", {"name": "c.example"}).status == 201
    assert (
        api.post("/aliases", {"address": "x@a.example", "destinations": ["ceo@b.example"]}).status
        == 201
    )
    assert admin_api.get("/me").body["domains_scope"] == "all"
    assert admin_api.get(f"/domains/{customers['b'].domain.pk}").status == 200


# --- the scope in /subadmins ------------------------------------------------------------


def test_a_subadmins_domains_scope_is_set_read_and_changed(admin_api, customers):
    created = admin_api.post(
        "/subadmins",
        {"username": "desk", "password": PASSWORD, "domains_scope": ["B.example", "a.example"]},
    )
    assert created.status == 201, created.body
    assert created.body["domains_scope"] == ["a.example", "b.example"]
    desk = created.body["id"]
    assert admin_api.get(f"/subadmins/{desk}").body["domains_scope"] == ["a.example", "b.example"]
    listed = admin_api.get("/subadmins").body["items"]
    assert [s["domains_scope"] for s in listed if s["username"] == "desk"] == [
        ["a.example", "b.example"]
    ]
    narrowed = admin_api.patch(f"/subadmins/{desk}", {"domains_scope": ["a.example"]})
    assert narrowed.status == 200 and narrowed.body["domains_scope"] == ["a.example"]
    untouched = admin_api.patch(f"/subadmins/{desk}", {"require_2fa": True})
    assert untouched.body["domains_scope"] == ["a.example"]
    widened = admin_api.patch(f"/subadmins/{desk}", {"domains_scope": "all"})
    assert widened.body["domains_scope"] == "all"
    assert not ScopedDomain.objects.filter(account_id=desk).exists()
    logged = Event.objects.filter(event="subadmin_updated").order_by("id")
    assert logged[0].details["edits"]["domains_scope"] == {
        "from": ["a.example", "b.example"],
        "to": ["a.example"],
    }
    assert "domains_scope" in logged[2].details["changed"]


@pytest.mark.parametrize(
    "scope, message",
    [
        (["a.example", "nowhere.example"], "There is no domain nowhere.example"),
        (["not a domain"], "is not a valid domain name"),
        ([], "Choose at least one domain, or All domains."),
    ],
)
def test_a_scope_naming_unknown_domains_is_refused_and_nothing_stored(
    admin_api, customers, scope, message
):
    created = admin_api.post(
        "/subadmins", {"username": "desk", "password": PASSWORD, "domains_scope": scope}
    )
    assert (created.status, created.error) == (422, "validation_error")
    assert message in created.body["message"]
    assert created.body["fields"] == {"domains_scope": created.body["message"]}
    assert not Account.objects.filter(username="desk").exists()


def test_a_change_to_unknown_domains_keeps_the_scope(admin_api, admin, customers):
    desk = limited_subadmin(admin, "desk", ["a.example"], password=PASSWORD, api_access=True)
    for scope in (["b.example", "gone.example"], "some", 7, [None], {"a": 1}):
        answer = admin_api.patch(f"/subadmins/{desk.pk}", {"domains_scope": scope})
        assert answer.status in (400, 422), (scope, answer.body)
        assert "domains_scope" in str(answer.body)
    assert admin_api.get(f"/subadmins/{desk.pk}").body["domains_scope"] == ["a.example"]


# --- the query plan of the scoped Users list (PostgreSQL) ---------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_scoped_users_list_is_one_indexed_query(admin, customers):
    # Enough domains and mailboxes that the planner reads them as a real table is read.
    domains = Domain.objects.bulk_create([Domain(name=f"d{n}.example") for n in range(300)])
    slots = [(domain, n) for domain in domains for n in range(30)]
    people = Person.objects.bulk_create([Person(kind="mailbox") for _ in slots])
    Mailbox.objects.bulk_create(
        [
            Mailbox(
                domain=domain,
                local_part=f"user{n}",
                password_hash="x",
                maildir=f"m/{domain.pk}/{n}",
                person=person,
            )
            for (domain, n), person in zip(slots, people, strict=True)
        ]
    )
    desk = limited_subadmin(admin, "desk", ["a.example", "d7.example"], password=PASSWORD)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    page = selectors.mailboxes(desk)[:25]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on mail_mailbox" not in plan, plan
    assert "mail_mailbox_domain_id" in plan, plan  # the mailboxes of its domains, by index
    shown = [m.address for m in page]
    assert shown[0] == "ceo@a.example" and len(shown) == 25
    assert all(address.endswith("@d7.example") for address in shown[1:])


def test_a_loop_through_another_domain_is_refused_without_naming_its_steps(
    helpdesk_api, admin, customers
):
    # The Admin forwards A's CEO to B's, and B's CEO to an address of A not yet taken.
    leaving.set_forwarding(customers["a"].mailbox, destinations=["ceo@b.example"], actor=admin)
    leaving.set_forwarding(customers["b"].mailbox, destinations=["ring@a.example"], actor=admin)
    answer = helpdesk_api.post(
        "/aliases", {"address": "ring@a.example", "destinations": ["ceo@a.example"]}
    )
    assert answer.status == 422
    message = answer.body["message"]
    assert "loop" in message and "ring@a.example" in message
    assert "an address outside your domains" in message and "b.example" not in message
