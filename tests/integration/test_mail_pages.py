"""SPEC §7: the Domains, Users (mailboxes) and Aliases pages: list with search and pages,
add, edit, delete with confirmation; every rule refused with a message by its field, a 4xx
answer and nothing changed; every change in the log.
"""

from datetime import datetime, timedelta

import pytest

from adminpanel.audit.models import Event
from adminpanel.mail import services as mail
from adminpanel.mail.models import Alias, Domain, Mailbox
from tests.integration.panel import (
    MAILBOX_PASSWORD,
    events,
    field_error,
    log_in_admin,
    text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(admin):
    return log_in_admin()


@pytest.fixture
def example(admin) -> Domain:
    return mail.create_domain(admin, name="example.com")


@pytest.fixture
def info(admin, example) -> Mailbox:
    return mail.create_mailbox(admin, address="info@example.com", password=MAILBOX_PASSWORD)


def snapshot() -> tuple:
    """Everything the mail pages can change, to show that a refusal changed nothing."""
    return (
        list(Domain.objects.values_list("name", "active", "catch_all").order_by("name")),
        list(Mailbox.objects.values_list("local_part", "display_name", "quota_mb", "active")),
        list(Alias.objects.values_list("local_part", "destinations", "active")),
    )


def mailbox_form(**overrides) -> dict:
    data = {
        "address": "anna@example.com",
        "display_name": "Anna",
        "password": MAILBOX_PASSWORD,
        "quota_mb": "2048",
        "active": "on",
    }
    data.update(overrides)
    return data


def alias_form(**overrides) -> dict:
    data = {"address": "team@example.com", "destinations": "info@example.com", "active": "on"}
    data.update(overrides)
    return data


# --- domains ---------------------------------------------------------------------------------


def test_adding_a_domain_stores_it_and_logs_it(admin, client):
    response = client.post("/domains/add", {"name": "Example.ORG", "active": "on"})
    assert response.status_code == 302 and response.url == "/domains"
    assert Domain.objects.get().name == "example.org"
    (event,) = events("domain_created")
    assert event.actor == admin and event.details == {"domain": "example.org"}


def test_an_international_domain_is_stored_as_its_a_label(client):
    client.post("/domains/add", {"name": "bücher.example", "active": "on"})
    assert Domain.objects.get().name == "xn--bcher-kva.example"


def test_the_list_shows_an_international_domain_as_people_write_it(admin, client):
    mail.create_domain(admin, name="bücher.example")
    page = text(client.get("/domains"))
    assert "bücher.example" in page and "xn--bcher-kva.example" in page


@pytest.mark.parametrize(
    "spelling", ["example.com", "EXAMPLE.com", "Example.Com.", " example.com "]
)
def test_a_domain_is_unique_regardless_of_case(client, example, spelling):
    before = snapshot()
    response = client.post("/domains/add", {"name": spelling})
    assert response.status_code == 400
    assert "The domain example.com already exists." in field_error(response, "name")
    assert snapshot() == before


@pytest.mark.parametrize("spelling", ["BÜCHER.example", "xn--bcher-kva.example"])
def test_an_international_domain_is_unique_in_every_spelling(admin, client, spelling):
    mail.create_domain(admin, name="bücher.example")
    response = client.post("/domains/add", {"name": spelling})
    assert response.status_code == 400
    assert "already exists" in field_error(response, "name")
    assert Domain.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("exa mple.com", "is not a valid domain name"),
        ("-bad.example", "is not a valid domain name"),
        ("bad_.example", "is not a valid domain name"),
        ("a..example", "is not a valid domain name"),
        ("localhost", "Enter a full domain name"),
        ("192.0.2.1", "not an IP address"),
        ("💩.example", "is not a valid domain name"),
        ("a" * 64 + ".example", "is not a valid domain name"),
        (("a" * 50 + ".") * 5 + "example", "at most 253 characters"),
        ("x" * 301, "at most 300 characters"),
        ("x" * 100_000, "at most 300 characters"),
        ("", "This field is required."),
        ("ex\x00ample.com", "Null characters are not allowed."),
    ],
    ids=[
        "space",
        "leading-hyphen",
        "underscore",
        "empty-label",
        "single-label",
        "ip",
        "emoji",
        "label-64",
        "name-254",
        "301",
        "absurd",
        "empty",
        "nul",
    ],
)
def test_a_malformed_domain_gets_a_message_by_the_field(client, name, message):
    response = client.post("/domains/add", {"name": name})
    assert response.status_code == 400
    assert message in field_error(response, "name")
    assert not Domain.objects.exists()


def test_a_domain_in_another_script_is_accepted_and_normalized(client):
    client.post("/domains/add", {"name": "пример.рф"})
    assert Domain.objects.get().name == "xn--e1afmkfd.xn--p1ai"


def test_a_malformed_catch_all_is_refused_by_its_field(client, example):
    before = snapshot()
    response = client.post(f"/domains/{example.pk}", {"catch_all": "not an address"})
    assert response.status_code == 400
    assert "Enter an address such as name@example.com." in field_error(response, "catch_all")
    assert snapshot() == before


def test_editing_a_domain_sets_its_catch_all_and_logs_it(admin, client, example):
    client.post(f"/domains/{example.pk}", {"catch_all": "Info@Example.com", "active": "on"})
    example.refresh_from_db()
    assert example.catch_all == "Info@example.com"
    (event,) = events("domain_updated")
    assert event.actor == admin and event.details["catch_all"] == "Info@example.com"


def test_domains_are_searched_in_unicode_and_in_ascii(admin, client):
    mail.create_domain(admin, name="bücher.example")
    mail.create_domain(admin, name="other.example")
    for term in ("bücher", "BÜCHER.example", "xn--bcher"):
        page = text(client.get("/domains", {"q": term}))
        assert "bücher.example" in page and "other.example" not in page, term


def test_the_domain_list_has_pages_of_25(admin, client):
    for n in range(30):
        mail.create_domain(admin, name=f"d{n:02}.example")
    first = text(client.get("/domains"))
    second = text(client.get("/domains", {"page": "2"}))
    assert "d00.example" in first and "d24.example" in first and "d25.example" not in first
    assert "d25.example" in second and "d29.example" in second and "Page 2 of 2" in second


@pytest.mark.parametrize("page", ["0", "-1", "999", "x", "9" * 40])
def test_an_odd_page_number_shows_a_page_not_an_error(admin, client, example, page):
    assert client.get("/domains", {"page": page}).status_code == 200


# --- deleting a domain: the cascade rule ----------------------------------------------------


@pytest.fixture
def busy(admin, example, info) -> Domain:
    """example.com with the mailbox info@ and the alias sales@."""
    mail.create_alias(admin, address="sales@example.com", destinations="info@example.com")
    return example


def test_the_delete_page_says_what_the_domain_still_holds(client, busy):
    page = text(client.get(f"/domains/{busy.pk}/delete"))
    assert "still has 1 mailbox and 1 alias" in page
    assert "Also delete its mailboxes and aliases" in page


def test_a_domain_with_mailboxes_is_not_deleted_without_cascade(client, busy):
    before = snapshot()
    response = client.post(f"/domains/{busy.pk}/delete")
    assert response.status_code == 400
    assert "still has 1 mailbox(es) and 1 alias(es)" in text(response)
    assert snapshot() == before
    assert not events("domain_deleted")


def test_a_domain_is_deleted_with_its_mailboxes_and_aliases_when_asked(admin, client, busy):
    response = client.post(f"/domains/{busy.pk}/delete", {"cascade": "on"})
    assert response.status_code == 302
    assert not Domain.objects.exists() and not Mailbox.objects.exists()
    assert not Alias.objects.exists()
    (event,) = events("domain_deleted")
    assert event.actor == admin
    assert event.details == {"domain": "example.com", "mailboxes_deleted": 1, "aliases_deleted": 1}


def test_an_empty_domain_is_deleted_without_cascade(client, example):
    assert client.post(f"/domains/{example.pk}/delete").status_code == 302
    assert not Domain.objects.exists()


def test_cascade_needs_delete_on_users_and_aliases_too(admin, busy):
    from tests.integration.panel import make_subadmin, signed_in

    make_subadmin(admin, "bob", levels={"domains": 3, "users": 1, "aliases": 3})
    response = signed_in("bob").post(f"/domains/{busy.pk}/delete", {"cascade": "on"})
    assert response.status_code == 403
    assert Domain.objects.filter(pk=busy.pk).exists() and Mailbox.objects.exists()


# --- users (mailboxes) ----------------------------------------------------------------------


def test_adding_a_mailbox_hashes_its_password_and_logs_it(admin, client, example):
    response = client.post("/users/add", mailbox_form())
    assert response.status_code == 302 and response.url == "/users"
    anna = Mailbox.objects.get(local_part="anna")
    assert anna.password_hash.startswith("argon2$argon2id$")
    assert MAILBOX_PASSWORD not in anna.password_hash
    assert (anna.display_name, anna.quota_mb, anna.domain) == ("Anna", 2048, example)
    (event,) = events("mailbox_created")
    assert event.actor == admin and event.details == {"address": "anna@example.com"}
    assert MAILBOX_PASSWORD not in str(Event.objects.values_list("details", flat=True))


def test_a_mailbox_on_an_international_domain_uses_the_a_label(admin, client):
    domain = mail.create_domain(admin, name="bücher.example")
    client.post("/users/add", mailbox_form(address="anna@BÜCHER.example"))
    assert Mailbox.objects.get().domain == domain


@pytest.mark.parametrize("spelling", ["info@example.com", "INFO@example.com", "Info@EXAMPLE.COM"])
def test_a_mailbox_address_is_unique_regardless_of_case(client, info, spelling):
    before = snapshot()
    response = client.post("/users/add", mailbox_form(address=spelling))
    assert response.status_code == 400
    assert "is already a mailbox" in field_error(response, "address")
    assert snapshot() == before


def test_a_mailbox_needs_an_existing_domain(client, example):
    response = client.post("/users/add", mailbox_form(address="anna@nowhere.example"))
    assert response.status_code == 400
    assert "There is no domain nowhere.example." in field_error(response, "address")
    assert not Mailbox.objects.exists()


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("anna", "Enter an address such as name@example.com."),
        ("@example.com", "The part before @"),
        ("an na@example.com", "The part before @"),
        ("anna..b@example.com", "The part before @"),
        ("анна@example.com", "The part before @"),
        ("a" * 65 + "@example.com", "The part before @"),
        ("anna@exa mple.com", "is not a valid domain name"),
        ("x" * 100_000, "at most 400 characters"),
    ],
    ids=["no-at", "no-local", "space", "dots", "cyrillic", "local-65", "bad-domain", "absurd"],
)
def test_a_malformed_address_gets_a_message_by_the_field(client, example, address, message):
    response = client.post("/users/add", mailbox_form(address=address))
    assert response.status_code == 400
    assert message in field_error(response, "address")
    assert not Mailbox.objects.exists()


@pytest.mark.parametrize(
    ("quota", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("-5", "greater than or equal to 1"),
        ("1.5", "Enter a whole number."),
        ("lots", "Enter a whole number."),
        ("99999999999999999999", "less than or equal to"),
        ("", "This field is required."),
    ],
    ids=["zero", "negative", "fraction", "word", "absurd", "empty"],
)
def test_a_quota_must_be_a_positive_whole_number(client, example, quota, message):
    response = client.post("/users/add", mailbox_form(quota_mb=quota))
    assert response.status_code == 400
    assert message in field_error(response, "quota_mb")
    assert not Mailbox.objects.exists()


def test_the_service_refuses_a_quota_of_zero_too(admin, example):
    from adminpanel.errors import Invalid

    with pytest.raises(Invalid) as refused:
        mail.create_mailbox(admin, address="a@example.com", password=MAILBOX_PASSWORD, quota_mb=0)
    assert refused.value.field == "quota_mb"


@pytest.mark.parametrize(
    ("password", "message"),
    [("short-1", "at least 10 characters"), ("password123", "too common")],
    ids=["short", "common"],
)
def test_a_weak_mailbox_password_is_refused(client, example, password, message):
    response = client.post("/users/add", mailbox_form(password=password))
    assert response.status_code == 400
    assert message in field_error(response, "password")
    assert not Mailbox.objects.exists()


def test_an_overlong_display_name_is_refused(client, example):
    response = client.post("/users/add", mailbox_form(display_name="N" * 201))
    assert response.status_code == 400
    assert "at most 200 characters" in field_error(response, "display_name")


def test_a_display_name_in_any_script_is_kept(client, example):
    client.post("/users/add", mailbox_form(display_name="Анна Müller 山田"))
    assert Mailbox.objects.get().display_name == "Анна Müller 山田"


def test_editing_a_mailbox_keeps_its_password_when_left_empty(admin, client, info):
    old_hash = info.password_hash
    data = {"display_name": "Front desk", "password": "", "quota_mb": "512", "active": "on"}
    assert client.post(f"/users/{info.pk}", data).status_code == 302
    info.refresh_from_db()
    assert (info.display_name, info.quota_mb, info.password_hash) == ("Front desk", 512, old_hash)
    (event,) = events("mailbox_updated")
    assert event.actor == admin


def test_editing_a_mailbox_logs_only_what_changed(client, info):
    data = {
        "display_name": "",
        "password": "",
        "quota_mb": "512",
        "active": "on",
        "sign_in_allowed": "on",
    }
    client.post(f"/users/{info.pk}", data)
    (event,) = events("mailbox_updated")
    assert event.details == {
        "address": "info@example.com",
        "changed": ["quota_mb"],
        "edits": {"quota_mb": {"from": 1024, "to": 512}},  # old → new (issue 11)
    }


def test_a_new_mailbox_password_is_hashed_and_logged_by_name_only(client, info):
    new = "Another-Mailbox-Secret-42"
    data = {
        "display_name": "",
        "password": new,
        "quota_mb": "1024",
        "active": "on",
        "sign_in_allowed": "on",
    }
    client.post(f"/users/{info.pk}", data)
    info.refresh_from_db()
    assert info.password_hash.startswith("argon2$") and new not in info.password_hash
    (event,) = events("mailbox_updated")
    assert event.details["changed"] == ["password"]


def test_editing_a_mailbox_quota_to_zero_changes_nothing(client, info):
    before = snapshot()
    data = {"display_name": "Changed", "quota_mb": "0", "active": "on"}
    response = client.post(f"/users/{info.pk}", data)
    assert response.status_code == 400
    assert field_error(response, "quota_mb")
    assert snapshot() == before


def test_deleting_a_mailbox_is_logged(admin, client, info):
    assert client.post(f"/users/{info.pk}/delete").status_code == 302
    assert not Mailbox.objects.exists()
    (event,) = events("mailbox_deleted")
    assert event.actor == admin and event.details["address"] == "info@example.com"
    kept_until = datetime.fromisoformat(event.details["mail_kept_until"])
    assert abs(kept_until - (event.at + timedelta(days=30))) < timedelta(seconds=2)


def test_users_are_searched_by_address_and_name(admin, client, info):
    mail.create_mailbox(
        admin, address="anna@example.com", password=MAILBOX_PASSWORD, display_name="Anna Berg"
    )
    page = text(client.get("/users", {"q": "berg"}))
    assert "anna@example.com" in page and "info@example.com" not in page
    page = text(client.get("/users", {"q": "info@example"}))
    assert "info@example.com" in page and "anna@example.com" not in page


# --- aliases ---------------------------------------------------------------------------------


def test_adding_an_alias_stores_its_destinations_and_logs_it(admin, client, example):
    data = alias_form(destinations="info@example.com\nBoss@Elsewhere.Example, info@example.com")
    assert client.post("/aliases/add", data).status_code == 302
    team = Alias.objects.get()
    assert team.destinations == ["info@example.com", "Boss@elsewhere.example"]
    (event,) = events("alias_created")
    assert event.actor == admin and event.details["address"] == "team@example.com"


@pytest.mark.parametrize("spelling", ["info@example.com", "INFO@Example.com"])
def test_an_alias_may_not_shadow_a_mailbox(client, info, spelling):
    before = snapshot()
    response = client.post("/aliases/add", alias_form(address=spelling))
    assert response.status_code == 400
    assert "is already a mailbox" in field_error(response, "address")
    assert snapshot() == before


def test_a_mailbox_may_not_take_an_aliases_address(admin, client, example):
    mail.create_alias(admin, address="team@example.com", destinations="x@elsewhere.example")
    response = client.post("/users/add", mailbox_form(address="Team@example.com"))
    assert response.status_code == 400
    assert "is already an alias" in field_error(response, "address")
    assert not Mailbox.objects.exists()


def test_an_alias_address_is_unique_regardless_of_case(admin, client, example):
    mail.create_alias(admin, address="team@example.com", destinations="x@elsewhere.example")
    response = client.post("/aliases/add", alias_form(address="TEAM@example.com"))
    assert response.status_code == 400
    assert "is already an alias" in field_error(response, "address")
    assert Alias.objects.count() == 1


def test_an_alias_needs_an_existing_domain(client, example):
    response = client.post("/aliases/add", alias_form(address="team@nowhere.example"))
    assert response.status_code == 400
    assert "There is no domain nowhere.example." in field_error(response, "address")


@pytest.mark.parametrize(
    ("destinations", "message"),
    [
        ("not-an-address", "Enter an address such as name@example.com."),
        ("ok@example.com\nbad@@", "The part before @"),
        ("\n \n", "This field is required."),
        ("x" * 40_001, "at most 40000 characters"),
    ],
    ids=["no-at", "second-line", "blank", "absurd"],
)
def test_malformed_destinations_get_a_message_by_the_field(client, example, destinations, message):
    response = client.post("/aliases/add", alias_form(destinations=destinations))
    assert response.status_code == 400
    assert message in field_error(response, "destinations")
    assert not Alias.objects.exists()


def test_an_alias_has_at_most_100_destinations(client, example):
    many = "\n".join(f"d{n}@elsewhere.example" for n in range(101))
    response = client.post("/aliases/add", alias_form(destinations=many))
    assert response.status_code == 400
    assert "at most 100 destinations" in field_error(response, "destinations")


def test_editing_and_deleting_an_alias_is_logged(admin, client, example):
    team = mail.create_alias(admin, address="team@example.com", destinations="a@elsewhere.example")
    client.post(f"/aliases/{team.pk}", {"destinations": "b@elsewhere.example", "active": "on"})
    team.refresh_from_db()
    assert team.destinations == ["b@elsewhere.example"]
    client.post(f"/aliases/{team.pk}/delete")
    assert not Alias.objects.exists()
    updated, deleted = events("alias_updated") + events("alias_deleted")
    assert updated.actor == deleted.actor == admin
    assert updated.details["destinations"] == ["b@elsewhere.example"]
    assert deleted.details == {"address": "team@example.com"}


def test_an_alias_to_an_address_that_does_not_exist_is_saved_with_a_warning(
    admin, client, example, info
):
    response = client.post(
        "/aliases/add", alias_form(destinations="inof@example.com\ninfo@example.com"), follow=True
    )
    assert Alias.objects.get().destinations == ["inof@example.com", "info@example.com"]
    assert "inof@example.com is neither a mailbox nor an alias of example.com" in text(response)
    assert "info@example.com is" not in text(response)


def test_an_alias_to_a_disabled_mailbox_is_saved_with_a_warning(admin, client, example, info):
    mail.update_mailbox(admin, info, active=False)
    team = mail.create_alias(admin, address="team@example.com", destinations="a@elsewhere.example")
    response = client.post(
        f"/aliases/{team.pk}", {"destinations": "info@example.com", "active": "on"}, follow=True
    )
    assert "info@example.com is disabled: it receives no mail." in text(response)


def test_an_alias_loop_is_refused_by_the_destinations_field(admin, client, example):
    mail.create_alias(admin, address="a@example.com", destinations="b@example.com")
    mail.create_alias(admin, address="b@example.com", destinations="c@example.com")
    before = snapshot()
    response = client.post(
        "/aliases/add", alias_form(address="c@example.com", destinations="A@example.com")
    )
    assert response.status_code == 400
    message = field_error(response, "destinations")
    assert "loop among aliases (c@example.com → a@example.com → b@example.com → c@example.com)" in (
        message
    )
    assert snapshot() == before


def test_editing_an_alias_into_a_loop_is_refused(admin, client, example):
    a = mail.create_alias(admin, address="a@example.com", destinations="x@elsewhere.example")
    mail.create_alias(admin, address="b@example.com", destinations="a@example.com")
    response = client.post(f"/aliases/{a.pk}", {"destinations": "b@example.com", "active": "on"})
    assert response.status_code == 400
    assert "a@example.com → b@example.com → a@example.com" in field_error(response, "destinations")
    a.refresh_from_db()
    assert a.destinations == ["x@elsewhere.example"]


# --- odd requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("section", ["domains", "users", "aliases"])
@pytest.mark.parametrize("pk", ["0", "424242", "9" * 30])
def test_an_unknown_object_is_page_not_found(client, section, pk):
    assert client.get(f"/{section}/{pk}").status_code == 404
    assert client.post(f"/{section}/{pk}/delete").status_code == 404


def test_a_form_for_a_mailbox_deleted_meanwhile_gets_page_not_found(client, info):
    client.post(f"/users/{info.pk}/delete")
    data = {"display_name": "Stale", "quota_mb": "100", "active": "on"}
    response = client.post(f"/users/{info.pk}", data)
    assert response.status_code == 404
    assert not Mailbox.objects.exists()


@pytest.mark.parametrize("section", ["domains", "users", "aliases"])
def test_a_long_search_is_cut_not_an_error(client, section):
    assert client.get(f"/{section}", {"q": "ü" * 10_000}).status_code == 200


ODD_VALUES = [
    "\x00",
    "ü" * 500,
    "=1+1",
    "<script>alert(1)</script>",
    "9" * 400,
    "-1",
    "a@b@c",
    "@",
    "xn--zz.example",
    "a@xn--zz.example",
    "\n\n",
    "\u202eevil",
]
VALID = {
    "/domains/add": {"name": "new.example", "catch_all": ""},
    "/users/add": mailbox_form(),
    "/aliases/add": alias_form(),
}
ODD_FIELDS = [
    ("/domains/add", "name"),
    ("/domains/add", "catch_all"),
    ("/users/add", "address"),
    ("/users/add", "display_name"),
    ("/users/add", "quota_mb"),
    ("/aliases/add", "address"),
    ("/aliases/add", "destinations"),
]


@pytest.mark.parametrize(("url", "field"), ODD_FIELDS)
def test_odd_input_gets_a_saved_page_or_a_message_never_a_server_error(client, example, url, field):
    for value in ODD_VALUES:
        response = client.post(url, {**VALID[url], field: value})
        assert response.status_code in (302, 400), (value, response.status_code)
        if response.status_code == 400:
            assert "Nothing was saved." in text(response)


def test_the_lists_count_in_plain_english(admin, client, info):
    mail.create_mailbox(admin, address="anna@example.com", password=MAILBOX_PASSWORD)
    mail.create_alias(admin, address="team@example.com", destinations="info@example.com")
    assert "2 mailboxes" in text(client.get("/users"))
    assert "1 alias" in text(client.get("/aliases"))
    mail.create_alias(admin, address="sales@example.com", destinations="info@example.com")
    assert "2 aliases" in text(client.get("/aliases"))
    assert "1 domain" in text(client.get("/domains"))


def test_alias_destinations_are_shown_as_people_write_them(admin, client, example):
    mail.create_domain(admin, name="bücher.example")
    mail.create_alias(admin, address="team@example.com", destinations=["info@Bücher.example"])
    page = text(client.get("/aliases"))
    assert "info@bücher.example" in page and "xn--bcher-kva" not in page
    alias = Alias.objects.get()
    assert alias.destinations == ["info@xn--bcher-kva.example"]  # as Postfix looks it up
    assert "info@bücher.example" in text(client.get(f"/aliases/{alias.pk}"))
