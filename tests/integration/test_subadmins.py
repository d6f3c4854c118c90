"""SPEC §2: the Sub-Admins pages (Admin only): list, add, edit, deactivate, change password,
Reset 2FA, delete; validation by the field; warnings about API exposure; the audit log.
"""

import re

import pytest
from django.test import Client

from adminpanel.accounts.models import Account, Level
from adminpanel.audit.models import Event
from adminpanel.twofactor import interface
from tests.integration.panel import (
    ADMIN_PASSWORD,
    SUBADMIN_PASSWORD,
    TwoFactor,
    csrf_log_in,
    events,
    field_error,
    is_logged_in,
    log_in,
    log_in_admin,
    make_subadmin,
    signed_in,
    text,
)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Fresh-Meadow-Copper-58"
WARN_ANY_IP = "This account has API access from any IP address."
WARN_2FA = "This account has 2FA enabled, so its API login will fail."


def form(**overrides) -> dict:
    """The Add Sub-Admin form as a browser sends it: a web-only account with no rights."""
    data = {
        "username": "carol",
        "password": SUBADMIN_PASSWORD,
        "active": "on",
        "web_access": "on",
        "allowed_ips": "",
        "domains": "0",
        "users": "0",
        "aliases": "0",
        "logs": "0",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin_client(admin):
    return log_in_admin()


# --- the pages -------------------------------------------------------------------------------


def test_the_list_has_add_sub_admin_and_shows_each_sub_admin(admin, admin_client):
    make_subadmin(admin, "bob", levels={"domains": Level.VIEW})
    page = text(admin_client.get("/subadmins"))
    assert ">Add Sub-Admin</a>" in page
    assert ">bob</a>" in page and "View" in page


def test_the_list_searches_usernames(admin, admin_client):
    make_subadmin(admin, "bob")
    make_subadmin(admin, "carol")
    page = text(admin_client.get("/subadmins?q=CAR"))
    assert ">carol</a>" in page and ">bob</a>" not in page


def test_the_add_form_has_the_fields_the_spec_names(admin_client):
    page = text(admin_client.get("/subadmins/add"))
    for label in ("Username", "Password", "Active", "Admin Panel", "API", "Allowed IPs"):
        assert re.search(rf"<label for=\"id_\w+\">{label}</label>", page), label
    assert "<legend>Access</legend>" in page
    for section in ("Domains", "Users", "Aliases", "Logs"):
        assert f'<label for="id_{section.lower()}">{section}</label>' in page
    options = re.findall(r"<option value=\"\d\"[^>]*>([^<]+)</option>", page)
    assert options[:4] == ["No access", "View", "Edit", "Delete"]
    assert ">Save</button>" in page


def test_the_edit_page_has_reset_2fa_and_delete(admin, admin_client, bob_2fa):
    bob = bob_2fa.account
    page = text(admin_client.get(f"/subadmins/{bob.pk}"))
    assert f'href="/subadmins/{bob.pk}/reset-2fa">Reset 2FA<' in page
    assert f'href="/subadmins/{bob.pk}/delete">Delete<' in page


def test_reset_2fa_is_not_offered_when_the_account_has_no_2fa(admin, admin_client):
    bob = make_subadmin(admin, "bob")
    page = text(admin_client.get(f"/subadmins/{bob.pk}"))
    assert "Reset 2FA" not in page
    assert "2FA is not enabled for bob: there is nothing to reset." in page


# --- adding ----------------------------------------------------------------------------------


def test_adding_a_sub_admin_saves_its_access_rights_and_ips(admin_client):
    response = admin_client.post(
        "/subadmins/add",
        form(
            api_access="on",
            allowed_ips="10.1.2.3/8\n2001:DB8::1\n192.0.2.7\n",
            domains="1",
            users="2",
            aliases="3",
        ),
    )
    carol = Account.objects.get(username="carol")
    assert response.status_code == 302 and response.url == f"/subadmins/{carol.pk}"
    assert (carol.web_access, carol.api_access, carol.is_active) == (True, True, True)
    assert (carol.domains, carol.users, carol.aliases, carol.logs) == (1, 2, 3, 0)
    assert carol.allowed_ips == ["10.0.0.0/8", "2001:db8::1", "192.0.2.7"]
    assert carol.check_password(SUBADMIN_PASSWORD)
    assert not carol.is_owner


def test_a_new_sub_admin_can_log_in_with_its_password(admin_client):
    admin_client.post("/subadmins/add", form())
    assert is_logged_in(signed_in("carol"))


def test_adding_a_sub_admin_is_logged_without_its_password(admin, admin_client):
    admin_client.post("/subadmins/add", form(domains="2"))
    (event,) = events("subadmin_created")
    assert event.actor == admin and event.ip == "127.0.0.1"
    assert event.details["subadmin"] == "carol"
    assert event.details["levels"]["domains"] == "Edit"
    assert SUBADMIN_PASSWORD not in str(event.details)


@pytest.mark.parametrize("taken", ["bob", "BOB", "Bob", "admin", "ADMIN"])
def test_usernames_are_unique_regardless_of_case(admin, admin_client, taken):
    make_subadmin(admin, "bob")
    before = Account.objects.count()
    response = admin_client.post("/subadmins/add", form(username=taken))
    assert response.status_code == 400
    assert "is already taken" in field_error(response, "username")
    assert Account.objects.count() == before


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ab", "3 to 150 characters"),
        ("a" * 151, "3 to 150 characters"),
        ("a" * 100_000, "at most 300 characters"),
        ("пользователь", "Use only letters A-Z, digits and . _ @ + -"),
        ("名前名前", "Use only letters A-Z, digits and . _ @ + -"),
        ("two words", "Use only letters A-Z, digits and . _ @ + -"),
        ("semi;colon", "Use only letters A-Z, digits and . _ @ + -"),
        ("", "This field is required."),
    ],
    ids=["short", "151", "absurd", "cyrillic", "cjk", "space", "semicolon", "empty"],
)
def test_a_bad_username_gets_a_message_by_the_field(admin_client, username, message):
    response = admin_client.post("/subadmins/add", form(username=username))
    assert response.status_code == 400
    assert message in field_error(response, "username")
    assert Account.objects.count() == 1


def test_a_username_keeps_its_case_and_symbols(admin_client):
    admin_client.post("/subadmins/add", form(username="Ops.Team+api@corp-1"))
    assert Account.objects.filter(username="Ops.Team+api@corp-1").exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-1", "at least 10 characters"),
        ("password123", "too common"),
        ("1234567890123", "entirely numeric"),
        ("", "This field is required."),
        ("x" * 6000, "at most 5000 characters"),
    ],
    ids=["short", "common", "numeric", "empty", "absurd"],
)
def test_a_weak_password_gets_a_message_by_the_field(admin_client, password, message):
    response = admin_client.post("/subadmins/add", form(password=password))
    assert response.status_code == 400
    assert message in field_error(response, "password")
    assert not Account.objects.filter(username="carol").exists()


@pytest.mark.parametrize(
    ("ips", "shown"),
    [
        ("10.0.0.300", "'10.0.0.300'"),
        ("10.0.0.0/33", "'10.0.0.0/33'"),
        ("2001:db8::g", "'2001:db8::g'"),
        ("example.com", "'example.com'"),
        ("192.0.2.1\n::1/129", "'::1/129'"),
        ("١٢٧.٠.٠.١", "is not an IP address"),
        ("010.0.0.1", "'010.0.0.1'"),
        ("fe80::1%eth0", "'fe80::1%eth0'"),
    ],
    ids=[
        "octet",
        "prefix4",
        "hex",
        "hostname",
        "second-line",
        "arabic-digits",
        "leading-zero",
        "zone-index",
    ],
)
def test_a_malformed_ip_or_range_is_named_by_the_field(admin_client, ips, shown):
    response = admin_client.post("/subadmins/add", form(allowed_ips=ips))
    assert response.status_code == 400
    message = field_error(response, "allowed_ips")
    assert shown in message and "is not an IP address or CIDR range" in message
    assert not Account.objects.filter(username="carol").exists()


def test_every_malformed_ip_is_named_at_once(admin_client):
    ips = "192.0.2.9\n300.1.1.1\nexample.com\n10.0.0.0/33"
    response = admin_client.post("/subadmins/add", form(allowed_ips=ips))
    assert response.status_code == 400
    assert field_error(response, "allowed_ips") == (
        "'300.1.1.1', 'example.com', '10.0.0.0/33' are not IP addresses or CIDR ranges."
    )


def test_allowed_ips_are_normalized_and_deduplicated(admin_client):
    ips = " 192.0.2.9 \n\n192.0.2.9\n2001:0DB8:0000::/32\n172.16.5.4/12\n::ffff:0:0/96"
    admin_client.post("/subadmins/add", form(allowed_ips=ips))
    carol = Account.objects.get(username="carol")
    assert carol.allowed_ips == ["192.0.2.9", "2001:db8::/32", "172.16.0.0/12", "::ffff:0:0/96"]


def test_more_than_100_allowed_ips_are_refused(admin_client):
    ips = "\n".join(f"10.0.{i // 250}.{i % 250}" for i in range(101))
    response = admin_client.post("/subadmins/add", form(allowed_ips=ips))
    assert response.status_code == 400
    assert "at most 100" in field_error(response, "allowed_ips")


def test_an_account_needs_admin_panel_or_api_access(admin_client):
    response = admin_client.post("/subadmins/add", form(web_access=None))
    assert response.status_code == 400
    assert "Choose Admin Panel, API or both." in text(response)
    assert not Account.objects.filter(username="carol").exists()


@pytest.mark.parametrize("value", ["4", "-1", "view", "3.0", ""])
def test_a_level_outside_the_four_choices_is_refused(admin_client, value):
    response = admin_client.post("/subadmins/add", form(domains=value))
    assert response.status_code == 400
    assert field_error(response, "domains")
    assert not Account.objects.filter(username="carol").exists()


def test_api_access_without_allowed_ips_shows_a_warning(admin_client):
    response = admin_client.post("/subadmins/add", form(api_access="on"), follow=True)
    assert WARN_ANY_IP in text(response)


def test_api_access_with_allowed_ips_shows_no_warning(admin_client):
    data = form(api_access="on", allowed_ips="192.0.2.0/24")
    response = admin_client.post("/subadmins/add", data, follow=True)
    assert WARN_ANY_IP not in text(response)


def test_an_api_account_with_2fa_shows_a_warning(admin, admin_client, enable_2fa):
    bob = make_subadmin(admin, "bob", allowed_ips="192.0.2.1")
    enable_2fa(bob)
    data = form(username="bob", password="", api_access="on", allowed_ips="192.0.2.1")
    response = admin_client.post(f"/subadmins/{bob.pk}", data, follow=True)
    page = text(response)
    assert WARN_2FA in page and WARN_ANY_IP not in page


# --- editing ---------------------------------------------------------------------------------


def test_editing_changes_rights_and_logs_what_changed(admin, admin_client):
    bob = make_subadmin(admin, "bob")
    data = form(username="bob", password="", domains="3", logs="1")
    response = admin_client.post(f"/subadmins/{bob.pk}", data)
    assert response.status_code == 302
    bob.refresh_from_db()
    assert (bob.domains, bob.logs) == (Level.DELETE, Level.VIEW)
    (event,) = events("subadmin_updated")
    assert event.actor == admin and sorted(event.details["changed"]) == ["domains", "logs"]


def test_an_empty_password_on_the_edit_form_keeps_the_old_one(admin, admin_client):
    bob = make_subadmin(admin, "bob")
    admin_client.post(f"/subadmins/{bob.pk}", form(username="bob", password=""))
    bob.refresh_from_db()
    assert bob.check_password(SUBADMIN_PASSWORD)


def test_the_admin_changes_a_sub_admins_password(admin, admin_client):
    bob = make_subadmin(admin, "bob")
    admin_client.post(f"/subadmins/{bob.pk}", form(username="bob", password=NEW_PASSWORD))
    assert is_logged_in(signed_in("bob", NEW_PASSWORD))
    (event,) = events("subadmin_updated")
    assert event.details["changed"] == ["password"]
    assert NEW_PASSWORD not in str(event.details)


def test_deactivating_a_sub_admin_stops_its_logins(admin, admin_client):
    bob = make_subadmin(admin, "bob")
    admin_client.post(f"/subadmins/{bob.pk}", form(username="bob", password="", active=None))
    bob.refresh_from_db()
    assert bob.is_active is False
    assert "Invalid username or password." in text(log_in(Client(), "bob", SUBADMIN_PASSWORD))


def test_renaming_to_a_taken_name_changes_nothing(admin, admin_client):
    make_subadmin(admin, "bob")
    carol = make_subadmin(admin, "carol")
    data = form(username="BOB", password="", domains="3")
    response = admin_client.post(f"/subadmins/{carol.pk}", data)
    assert response.status_code == 400
    assert "is already taken" in field_error(response, "username")
    carol.refresh_from_db()
    assert (carol.username, carol.domains) == ("carol", Level.NONE)
    assert not events("subadmin_updated")


def test_an_invalid_edit_changes_nothing(admin, admin_client):
    bob = make_subadmin(admin, "bob", allowed_ips="192.0.2.1")
    data = form(username="bob", password="", allowed_ips="not-an-ip", domains="3")
    response = admin_client.post(f"/subadmins/{bob.pk}", data)
    assert response.status_code == 400
    bob.refresh_from_db()
    assert (bob.allowed_ips, bob.domains) == (["192.0.2.1"], Level.NONE)
    # The form shows what was typed, so it can be corrected.
    assert "not-an-ip" in text(response)


def test_the_admin_is_not_a_sub_admin_and_cannot_be_edited_or_deleted_here(admin, admin_client):
    for url in (f"/subadmins/{admin.pk}", f"/subadmins/{admin.pk}/delete"):
        assert admin_client.get(url).status_code == 404
        assert admin_client.post(url, form(username="admin")).status_code == 404
    admin.refresh_from_db()
    assert admin.is_owner and admin.check_password(ADMIN_PASSWORD)


def test_a_form_for_a_sub_admin_deleted_meanwhile_gets_page_not_found(admin, admin_client):
    bob = make_subadmin(admin, "bob")
    admin_client.post(f"/subadmins/{bob.pk}/delete")
    response = admin_client.post(f"/subadmins/{bob.pk}", form(username="bob", password=""))
    assert response.status_code == 404
    assert "Page not found" in text(response)
    assert not Account.objects.filter(username="bob").exists()


@pytest.mark.parametrize("pk", ["0", "99999999", "9" * 30])
def test_an_unknown_sub_admin_is_page_not_found(admin_client, pk):
    assert admin_client.get(f"/subadmins/{pk}").status_code == 404


# --- Reset 2FA and Delete --------------------------------------------------------------------


@pytest.fixture
def bob_2fa(admin, enable_2fa) -> TwoFactor:
    return enable_2fa(make_subadmin(admin, "bob"))


def test_the_edit_page_says_whether_2fa_is_enabled(admin_client, bob_2fa):
    page = text(admin_client.get(f"/subadmins/{bob_2fa.account.pk}"))
    assert "2FA is enabled for bob" in page


def test_reset_2fa_turns_2fa_off_so_the_password_alone_logs_in(admin, admin_client, bob_2fa):
    response = admin_client.post(f"/subadmins/{bob_2fa.account.pk}/reset-2fa", follow=True)
    assert "2FA of bob was reset" in text(response)
    assert not interface.is_enabled(bob_2fa.account)
    assert is_logged_in(signed_in("bob"))
    (event,) = events("2fa_reset")
    assert event.actor == admin and event.details == {"account": "bob"}


def test_reset_2fa_asks_for_confirmation_first(admin_client, bob_2fa):
    page = text(admin_client.get(f"/subadmins/{bob_2fa.account.pk}/reset-2fa"))
    assert "Reset 2FA of bob?" in page and ">Reset 2FA</button>" in page
    assert interface.is_enabled(bob_2fa.account)


def test_delete_asks_for_confirmation_first(admin, admin_client):
    bob = make_subadmin(admin, "bob")
    page = text(admin_client.get(f"/subadmins/{bob.pk}/delete"))
    assert "Delete Sub-Admin bob?" in page and ">Delete</button>" in page
    assert Account.objects.filter(pk=bob.pk).exists()


def test_deleting_a_sub_admin_removes_it_and_logs_its_name(admin, admin_client):
    bob = make_subadmin(admin, "bob")
    response = admin_client.post(f"/subadmins/{bob.pk}/delete")
    assert response.status_code == 302 and response.url == "/subadmins"
    assert not Account.objects.filter(username="bob").exists()
    (event,) = events("subadmin_deleted")
    assert event.actor == admin and event.details == {"subadmin": "bob"}


def test_every_sub_admin_change_is_in_the_log(admin, admin_client, bob_2fa):
    bob = bob_2fa.account
    before = Event.objects.latest("id").pk
    admin_client.post("/subadmins/add", form())
    admin_client.post(f"/subadmins/{bob.pk}", form(username="bob", password="", active=None))
    admin_client.post(f"/subadmins/{bob.pk}/reset-2fa")
    admin_client.post(f"/subadmins/{bob.pk}/delete")
    logged = list(
        Event.objects.filter(pk__gt=before, actor=admin)
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert logged == ["subadmin_created", "subadmin_updated", "2fa_reset", "subadmin_deleted"]


def test_deleting_a_sub_admin_with_2fa_removes_its_device_and_codes(admin_client, bob_2fa):
    from adminpanel.twofactor.models import RecoveryCode, TotpDevice

    admin_client.post(f"/subadmins/{bob_2fa.account.pk}/delete")
    assert not TotpDevice.objects.exists() and not RecoveryCode.objects.exists()


def test_a_stale_form_without_a_valid_token_gets_a_clear_page_and_changes_nothing(admin):
    from django.test import Client

    bob = make_subadmin(admin, "bob")
    browser = Client(enforce_csrf_checks=True)
    assert csrf_log_in(browser, "admin", ADMIN_PASSWORD).url == "/"
    form_data = form(username="bob", password="", domains="3", csrfmiddlewaretoken="expired")
    response = browser.post(f"/subadmins/{bob.pk}", form_data)
    assert response.status_code == 403
    assert "This form has expired" in text(response)
    bob.refresh_from_db()
    assert bob.domains == Level.NONE


def test_the_list_flags_api_accounts_open_to_any_ip(admin, admin_client):
    make_subadmin(admin, "open-robot", web_access=False, api_access=True)
    make_subadmin(admin, "fenced-robot", web_access=False, api_access=True, allowed_ips="::1")
    page = text(admin_client.get("/subadmins"))
    assert page.count("API open to any IP") == 1
    open_row = re.search(r"<tr>\s*<td[^>]*><a [^>]*>open-robot</a>.*?</tr>", page, re.S)
    assert open_row and "API open to any IP" in open_row.group(0)
