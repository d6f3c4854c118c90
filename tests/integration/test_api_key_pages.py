"""Security → API keys (SPEC §17): the Admin's page, behind Confirm access; Create API key shows
the key once; the list shows created, expires, last used (time, IP); Revoke ends it at once."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from adminpanel.accounts.models import Account, ApiKey
from adminpanel.audit.models import Event
from adminpanel.subadmins import services as subadmins
from tests.integration.panel import PASSWORD, field_error, log_in, text

pytestmark = pytest.mark.django_db

KEY = re.compile(r'<code id="api-key">(apk_[A-Za-z0-9_-]{43})</code>')
API_IP = "192.0.2.10"


@pytest.fixture
def admin(make_account) -> Account:
    return make_account("admin", is_owner=True)


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    assert log_in(client, "admin").url == "/"
    return client


@pytest.fixture
def robot(admin) -> Account:
    """An API Sub-Admin allowed from 192.0.2.0/24, Domains: View."""
    account, _ = subadmins.create_subadmin(
        admin,
        username="robot",
        password=PASSWORD,
        web_access=False,
        api_access=True,
        allowed_ips=["192.0.2.0/24"],
        levels={"domains": 1},
    )
    return account


def create(client: Client, robot: Account, **fields) -> str:
    """Create API key through the form; returns the key the page shows once."""
    data = {"name": "Billing", "subadmin": str(robot.pk), "allowed_ips": "", "expires": ""}
    posted = client.post("/security/api-keys/new", {**data, **fields})
    assert posted.status_code == 302, text(posted)[:2000]
    assert posted.url == "/security/api-keys/created"  # Post/Redirect/Get
    response = client.get(posted.url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    found = KEY.search(text(response))
    assert found, text(response)[:2000]
    return found.group(1)


def me(key: str, ip: str = API_IP):
    return Client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR=ip)


def test_the_security_menu_has_api_keys_for_the_admin(admin_client):
    page = text(admin_client.get("/"))
    assert '<a href="/security/api-keys">API keys</a>' in page


def test_a_subadmin_has_no_api_keys_page(admin):
    subadmins.create_subadmin(admin, username="helper", password=PASSWORD)
    client = Client()
    assert log_in(client, "helper").url == "/"
    assert "/security/api-keys" not in text(client.get("/"))
    assert client.get("/security/api-keys").status_code == 403
    assert client.get("/security/api-keys/new").status_code == 403
    assert client.post("/security/api-keys/new", {"name": "x"}).status_code == 403


def test_the_pages_ask_to_confirm_access_after_ten_minutes(admin_client, robot, clock):
    clock.advance(minutes=11)
    for path in ("/security/api-keys", "/security/api-keys/new"):
        response = admin_client.get(path)
        assert response.status_code == 302
        assert response.url.startswith("/security/confirm?next=")


def test_what_was_typed_before_confirm_access_is_created_after_it(admin_client, robot, clock):
    clock.advance(minutes=11)
    waiting = admin_client.post(
        "/security/api-keys/new",
        {"name": "Provisioning", "subadmin": str(robot.pk), "allowed_ips": "", "expires": ""},
    )
    assert waiting.url.startswith("/security/confirm")
    confirmed = admin_client.post(
        "/security/confirm", {"password": PASSWORD, "next": "/security/api-keys/new"}
    )
    assert confirmed.url == "/security/api-keys/new"
    shown = admin_client.get("/security/api-keys/new", follow=True)
    key = KEY.search(text(shown)).group(1)
    assert me(key).status_code == 200
    assert ApiKey.objects.get().name == "Provisioning"


def test_the_form_has_the_spec_labels(admin_client, robot):
    page = text(admin_client.get("/security/api-keys/new"))
    assert "<h1>Create API key</h1>" in page
    for field, label in (
        ("name", "Name"),
        ("subadmin", "API Sub-Admin"),
        ("allowed_ips", "Allowed IPs"),
        ("expires", "Expires"),
    ):
        assert f'<label for="id_{field}">{label}</label>' in page
    assert f'<option value="{robot.pk}">robot</option>' in page
    assert 'type="date"' in page


def test_the_form_lists_only_api_only_subadmins(admin, admin_client, robot):
    subadmins.create_subadmin(
        admin, username="human", password=PASSWORD, web_access=True, api_access=True
    )
    page = text(admin_client.get("/security/api-keys/new"))
    assert ">robot</option>" in page and ">human</option>" not in page


def test_without_an_api_subadmin_the_form_says_what_to_do_first(admin_client):
    page = text(admin_client.get("/security/api-keys/new"))
    assert "first add a Sub-Admin with <strong>API</strong> access only" in page


def test_a_created_key_is_shown_once_and_works_with_the_api(admin_client, robot):
    key = create(admin_client, robot)
    answer = me(key)
    assert answer.status_code == 200 and answer.json()["username"] == "robot"
    listing = text(admin_client.get("/security/api-keys"))
    assert key not in listing and key[4:-4] not in listing  # never again, not even in part
    assert "Billing" in listing and f"key …<code>{key[-4:]}</code>" in listing
    created = Event.objects.get(event="api_key_created")
    assert created.actor_name == "admin"
    assert created.details["api_key"] == "Billing" and created.details["subadmin"] == "robot"
    assert key not in str(created.details)


def test_the_list_shows_created_expires_and_last_used(admin_client, robot, clock):
    key = create(admin_client, robot, expires="2099-12-31")
    row = text(admin_client.get("/security/api-keys"))
    assert clock.current.strftime("%Y-%m-%d %H:%M") in row
    assert "2100-01-01 00:00" in row  # the end of the chosen day, UTC
    assert ApiKey.objects.get().expires_at == datetime(2100, 1, 1, tzinfo=UTC)
    assert 'data-label="Last used"><span class="muted">Never</span>' in row
    clock.advance(minutes=3)
    assert me(key).status_code == 200
    row = text(admin_client.get("/security/api-keys"))
    used = clock.current.strftime("%Y-%m-%d %H:%M")
    assert f'{used}</time><br><span class="muted">from {API_IP}</span></div>' in row


def test_revoke_asks_first_then_the_key_is_refused_at_once(admin_client, robot):
    key = create(admin_client, robot)
    assert me(key).status_code == 200
    pk = ApiKey.objects.get().pk
    listing = text(admin_client.get("/security/api-keys"))
    assert f'href="/security/api-keys/{pk}/revoke">Revoke' in listing
    asked = text(admin_client.get(f"/security/api-keys/{pk}/revoke"))
    assert "Revoke API key “Billing”?" in asked and f"from {API_IP}" in asked
    assert me(key).status_code == 200  # asking revokes nothing
    done = admin_client.post(f"/security/api-keys/{pk}/revoke")
    assert done.url == "/security/api-keys"
    assert me(key).status_code == 401
    listing = text(admin_client.get("/security/api-keys"))
    assert "was revoked: it is refused from now on." in listing
    assert '<span class="badge">Revoked</span>' in listing
    assert f"/security/api-keys/{pk}/revoke" not in listing
    assert admin_client.post(f"/security/api-keys/{pk}/revoke").url == "/security/api-keys"
    assert Event.objects.filter(event="api_key_revoked").count() == 1


def test_an_unknown_key_id_is_404(admin_client):
    assert admin_client.get("/security/api-keys/999/revoke").status_code == 404
    assert admin_client.post("/security/api-keys/999/revoke").status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Give the key a name"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"subadmin": ""}, "subadmin", "Choose the API Sub-Admin"),
        ({"subadmin": "99999"}, "subadmin", "Select a valid choice"),
        ({"allowed_ips": "10.0.0.1\nnot-an-ip"}, "allowed_ips", "is not an IP address"),
        ({"expires": "2001-01-01"}, "expires", "Choose a day in the future"),
        ({"expires": "31/01/2027"}, "expires", "Enter a date"),
        ({"expires": "9999-12-31"}, "expires", "Choose an earlier day"),
    ],
)
def test_bad_input_is_named_beside_its_field_and_nothing_is_made(
    admin_client, robot, fields, field, message
):
    data = {"name": "Billing", "subadmin": str(robot.pk), "allowed_ips": "", "expires": ""}
    response = admin_client.post("/security/api-keys/new", {**data, **fields})
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert not ApiKey.objects.exists()
    assert not KEY.search(text(response))


def test_a_second_live_key_of_the_same_name_is_refused(admin_client, robot):
    create(admin_client, robot)
    response = admin_client.post(
        "/security/api-keys/new",
        {"name": "billing", "subadmin": str(robot.pk), "allowed_ips": "", "expires": ""},
    )
    assert response.status_code == 400
    assert "exists already" in field_error(response, "name")


def test_a_key_with_its_own_ips_works_only_from_them(admin_client, robot):
    key = create(admin_client, robot, allowed_ips="192.0.2.10\n192.0.2.11/32")
    assert me(key, "192.0.2.10").status_code == 200
    assert me(key, "192.0.2.11").status_code == 200
    refused = me(key, "192.0.2.12")  # inside the Sub-Admin's range only
    assert refused.status_code == 403 and refused.json()["error"] == "ip_not_allowed"
    assert "192.0.2.10/32" not in text(admin_client.get("/security/api-keys"))
    assert "only from 192.0.2.10, 192.0.2.11/32" in text(admin_client.get("/security/api-keys"))


def test_an_expired_key_is_marked_expired_and_refused(admin_client, robot, clock):
    tomorrow = (clock.current + timedelta(days=1)).date().isoformat()
    key = create(admin_client, robot, expires=tomorrow)
    clock.advance(days=2)
    assert me(key).status_code == 401
    again = Client()  # the first session ended after 24 hours
    assert log_in(again, "admin").url == "/"
    assert '<span class="badge warn">Expired</span>' in text(again.get("/security/api-keys"))


def test_reloading_the_created_key_page_makes_no_second_key_and_hides_it(admin_client, robot):
    key = create(admin_client, robot)
    again = admin_client.get("/security/api-keys/created", follow=True)  # a reload
    assert key not in text(again) and "shown only once" in text(again)
    assert ApiKey.objects.count() == 1
    session = admin_client.session
    assert key not in str(dict(session.items()))  # nothing of it left in the session


def test_the_session_holds_the_new_key_only_encrypted_until_it_is_shown(admin_client, robot):
    data = {"name": "Billing", "subadmin": str(robot.pk), "allowed_ips": "", "expires": ""}
    assert admin_client.post("/security/api-keys/new", data).status_code == 302
    waiting = str(dict(admin_client.session.items()))
    assert "api_key_created" in waiting
    shown = KEY.search(text(admin_client.get("/security/api-keys/created"))).group(1)
    assert shown not in waiting
