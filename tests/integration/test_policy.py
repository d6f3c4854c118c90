"""SPEC §12 "Policy": Require 2FA for Sub-Admins, and each Sub-Admin's Require 2FA."""

import json

import pyotp
import pytest
from django.test import Client

from adminpanel.accounts import policy
from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from adminpanel.errors import Refused
from adminpanel.subadmins import services as subadmins
from adminpanel.twofactor import interface as twofactor
from tests.integration.panel import MANUAL_KEY, PASSWORD, SETUP_ID, log_in, text, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_account) -> Account:
    return make_account("admin", is_owner=True)


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    assert log_in(client, "admin").url == "/"
    return client


@pytest.fixture
def bob(admin) -> Account:
    account, _ = subadmins.create_subadmin(
        admin, username="bob", password=PASSWORD, api_access=True, allowed_ips=["127.0.0.1"]
    )
    return account


def signed_in(username: str = "bob") -> Client:
    client = Client()
    assert log_in(client, username).url == "/"
    return client


def require_for_all(admin_client: Client) -> None:
    response = admin_client.post("/security/policy", {"require_2fa_for_subadmins": "on"})
    assert response.url == "/security/policy"


# --- the Policy page ------------------------------------------------------------------------


def test_the_policy_page_has_require_2fa_for_sub_admins(admin_client):
    page = text(admin_client.get("/security/policy"))
    assert "<h1>Policy</h1>" in page
    assert '<label for="id_require_2fa_for_subadmins">Require 2FA for Sub-Admins</label>' in page
    assert '<a href="/security/policy"' in page  # in the Security menu


def test_saving_the_policy_is_logged(admin_client):
    require_for_all(admin_client)
    assert policy.current().require_2fa_for_subadmins
    changed = Event.objects.get(event="policy_changed")
    assert changed.actor_name == "admin" and changed.details == {"require_2fa_for_subadmins": True}


def test_only_the_admin_has_the_policy_page(bob):
    client = signed_in()
    assert client.get("/security/policy").status_code == 403
    assert client.post("/security/policy", {"require_2fa_for_subadmins": "on"}).status_code == 403
    assert not policy.current().require_2fa_for_subadmins
    assert '<a href="/security/policy"' not in text(client.get("/"))


# --- the gate --------------------------------------------------------------------------------


def test_a_required_sub_admin_without_2fa_reaches_only_security_2fa(admin_client, bob):
    require_for_all(admin_client)
    client = signed_in()
    for url in ("/", "/domains", "/security/sessions", "/security/password"):
        response = client.get(url)
        assert response.status_code == 302 and response.url == "/security/2fa", url
    page = text(client.get("/security/2fa"))
    assert "Your Admin requires two-factor authentication for this account." in page


def test_the_gate_applies_at_once_to_a_session_already_signed_in(admin_client, bob):
    client = signed_in()
    assert client.get("/").status_code == 200
    require_for_all(admin_client)
    assert client.get("/").url == "/security/2fa"


def test_the_per_sub_admin_box_gates_that_sub_admin_only(admin, admin_client, bob, make_account):
    make_account("carol")
    subadmins.update_subadmin(admin, bob, require_2fa=True)
    assert signed_in("bob").get("/").url == "/security/2fa"
    assert signed_in("carol").get("/").status_code == 200


def test_enabling_2fa_opens_the_gate(admin_client, bob, clock):
    require_for_all(admin_client)
    client = signed_in()
    client.post("/security/2fa/enable")
    page = text(client.get("/security/2fa/setup"))
    key = MANUAL_KEY.search(page).group(1).replace(" ", "")
    setup = SETUP_ID.search(page).group(1)
    client.post("/security/2fa/setup", {"setup": setup, "challenge": pyotp.TOTP(key).at(clock())})
    assert client.get("/").status_code == 200


def test_a_required_sub_admin_cannot_turn_2fa_off(admin, bob, enable_2fa):
    enable_2fa(bob)
    subadmins.update_subadmin(admin, bob, require_2fa=True)
    with pytest.raises(Refused) as refused:
        policy.check_may_disable(bob)
    assert refused.value.reason == "two_factor_required"


def test_a_required_sub_admin_is_told_to_replace_a_lost_phone_or_ask_for_reset_2fa(
    admin, bob, enable_2fa
):
    bob_2fa = enable_2fa(bob)
    subadmins.update_subadmin(admin, bob, require_2fa=True)
    client = Client()
    log_in(client, "bob")
    client.post("/login/verify", {"challenge": bob_2fa.recovery_codes[0]})
    page = text(client.get("/security/2fa"))
    assert "it cannot be turned off here" in page
    assert "use <strong>Replace</strong> below" in page
    assert "ask the Admin for <strong>Reset 2FA</strong>" in page
    assert 'href="/security/2fa/app/replace"' in page  # Replace is open to it
    refused = client.get("/security/2fa/disable", follow=True)
    assert "ask the Admin for Reset 2FA" in text(refused)


def test_the_admin_is_never_gated(admin_client):
    require_for_all(admin_client)
    assert admin_client.get("/").status_code == 200


def test_the_api_login_of_a_required_sub_admin_without_2fa_is_refused(admin_client, bob):
    require_for_all(admin_client)
    body = json.dumps({"username": "bob", "password": PASSWORD})
    response = Client().post("/api/v1/auth/login", body, content_type="application/json")
    assert response.status_code == 403
    assert json.loads(response.content)["error"] == "two_factor_required"


def api_token(username: str) -> str:
    body = json.dumps({"username": username, "password": PASSWORD})
    response = Client().post("/api/v1/auth/login", body, content_type="application/json")
    assert response.status_code == 200
    return json.loads(response.content)["token"]


def api_me(token: str):
    return Client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_token_issued_before_the_policy_stops_working_when_it_is_saved(admin_client, bob):
    token = api_token("bob")
    assert api_me(token).status_code == 200
    require_for_all(admin_client)
    response = api_me(token)
    assert response.status_code == 403
    assert json.loads(response.content)["error"] == "two_factor_required"
    refused = Event.objects.get(event="api_token_refused", actor_name="bob")
    assert refused.details == {"reason": "two_factor_required"}


def test_a_token_issued_before_require_2fa_was_ticked_stops_working(admin, bob):
    token = api_token("bob")
    subadmins.update_subadmin(admin, bob, require_2fa=True)
    assert api_me(token).status_code == 403


def test_a_session_that_passed_2fa_is_gated_once_2fa_is_turned_off(admin_client, bob, enable_2fa):
    """The gate asks whether the account has 2FA now, not whether this session once showed it."""
    bob_2fa = enable_2fa(bob)
    client = Client()
    assert log_in(client, "bob").url == "/login"
    assert verify(client, bob_2fa.next_code()).url == "/"
    client.post("/security/2fa/disable", {"challenge": bob_2fa.next_code()})
    assert not twofactor.is_enabled(bob)
    assert client.get("/").status_code == 200  # 2FA is off and nothing requires it yet
    require_for_all(admin_client)
    assert client.get("/").url == "/security/2fa"


def test_an_api_only_sub_admin_is_not_required_to_have_2fa(admin, admin_client):
    subadmins.create_subadmin(
        admin, username="robot", password=PASSWORD, web_access=False, api_access=True
    )
    require_for_all(admin_client)
    assert api_me(api_token("robot")).status_code == 200  # its token works too


# --- the Sub-Admin form and the API field -----------------------------------------------------


def test_the_sub_admin_form_has_require_2fa(admin_client, bob):
    page = text(admin_client.get(f"/subadmins/{bob.pk}"))
    assert '<label for="id_require_2fa">Require 2FA</label>' in page


def test_ticking_require_2fa_on_the_form_saves_it(admin_client, bob):
    form = {
        "username": "bob",
        "active": "on",
        "web_access": "on",
        "api_access": "on",
        "allowed_ips": "127.0.0.1",
        "require_2fa": "on",
        **{s: "0" for s in ("domains", "users", "aliases", "logs")},
    }
    assert admin_client.post(f"/subadmins/{bob.pk}", form).status_code == 302
    bob.refresh_from_db()
    assert bob.require_2fa


def test_the_api_reads_and_sets_require_2fa(admin, bob):
    admin.api_access = True
    admin.save()
    body = json.dumps({"username": "admin", "password": PASSWORD})
    login = Client().post("/api/v1/auth/login", body, content_type="application/json")
    headers = {"Authorization": f"Bearer {json.loads(login.content)['token']}"}
    api = Client(headers=headers)
    assert json.loads(api.get(f"/api/v1/subadmins/{bob.pk}").content)["require_2fa"] is False
    patched = api.patch(
        f"/api/v1/subadmins/{bob.pk}", json.dumps({"require_2fa": True}), "application/json"
    )
    assert patched.status_code == 200 and json.loads(patched.content)["require_2fa"] is True


# --- the overview -----------------------------------------------------------------------------


def test_home_shows_who_is_not_compliant(admin, admin_client, bob, make_account):
    make_account("carol")
    subadmins.update_subadmin(admin, bob, require_2fa=True)
    page = text(admin_client.get("/"))
    assert "Sub-Admins who must still enable 2FA" in page
    section = page.split("Sub-Admins who must still enable 2FA")[1].split("</section>")[0]
    assert ">bob</a>" in section and "carol" not in section
    assert "Required, not enabled" in page
