"""A bearer token's life: issue, use, expire, log out, revocation at once (SPEC §4.6, §6)."""

import pytest

from adminpanel.accounts.hashers import Argon2idHasher
from adminpanel.accounts.models import Account, ApiToken
from adminpanel.accounts.services import change_own_password
from adminpanel.audit.models import Event
from adminpanel.subadmins import services as subadmins
from tests.api.client import API_IP, PASSWORD, Api

pytestmark = pytest.mark.django_db


def revoked_events(reason: str) -> list[Event]:
    return list(Event.objects.filter(event="api_token_revoked", details__reason=reason))


@pytest.fixture
def robot(make_subadmin) -> Account:
    return make_subadmin("robot", levels={"domains": 1}, allowed_ips=["203.0.113.0/24"])


@pytest.fixture
def robot_api(robot) -> Api:
    client = Api(ip=API_IP)
    assert client.login("robot").status == 200
    return client


def test_a_token_opens_the_api(admin_api):
    answer = admin_api.get("/me")
    assert answer.status == 200
    assert answer.body["username"] == "admin"
    assert answer.body["role"] == "Admin"


def test_me_tells_the_access_and_permissions_of_a_subadmin(robot_api):
    me = robot_api.get("/me").body
    assert me["role"] == "Sub-Admin"
    assert me["access"] == {"admin_panel": False, "api": True}
    assert me["permissions"] == {
        "domains": "view",
        "users": "none",
        "aliases": "none",
        "logs": "none",
    }
    assert me["allowed_ips"] == ["203.0.113.0/24"]


def test_no_token_is_401_not_authenticated(admin, api):
    answer = api.get("/me")
    assert answer.status == 401
    assert answer.error == "not_authenticated"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_works_until_its_hour_is_over(admin_api, clock):
    clock.advance(minutes=59, seconds=59)
    assert admin_api.get("/me").status == 200
    clock.advance(seconds=2)
    answer = admin_api.get("/me")
    assert answer.status == 401
    assert answer.error == "invalid_token"


def test_a_token_expires_after_one_hour(admin_api, clock):
    clock.advance(hours=1, seconds=1)
    assert admin_api.get("/me").error == "invalid_token"


def test_logout_revokes_the_token(admin, admin_api):
    assert admin_api.post("/auth/logout").status == 204
    assert admin_api.get("/me").error == "invalid_token"
    assert admin_api.post("/auth/logout").status == 401
    assert Event.objects.filter(event="api_logout", actor=admin).count() == 1


def test_logout_ends_only_that_token(admin):
    first, second = Api(), Api()
    first.login("admin")
    second.login("admin")
    first.post("/auth/logout")
    assert second.get("/me").status == 200


def test_enabling_2fa_revokes_the_accounts_tokens_at_once(admin, admin_api, enable_2fa):
    enable_2fa(admin)
    assert admin_api.get("/me").error == "invalid_token"
    assert len(revoked_events("two_factor_enabled")) == 1
    assert Api().login("admin").error == "two_factor_enabled"


def test_deactivating_a_subadmin_revokes_its_tokens(admin_api, robot, robot_api):
    assert admin_api.patch(f"/subadmins/{robot.pk}", {"active": False}).status == 200
    assert robot_api.get("/me").error == "invalid_token"
    assert revoked_events("deactivated")[0].actor_name == "admin"


def test_removing_api_access_revokes_its_tokens(admin_api, robot, robot_api):
    changed = admin_api.patch(
        f"/subadmins/{robot.pk}", {"access": {"admin_panel": True, "api": False}}
    )
    assert changed.status == 200
    assert robot_api.get("/me").error == "invalid_token"
    assert revoked_events("api_access_removed")


def test_changing_the_password_revokes_its_tokens(admin_api, robot, robot_api):
    changed = admin_api.patch(f"/subadmins/{robot.pk}", {"password": "another-long-passphrase"})
    assert changed.status == 200
    assert robot_api.get("/me").error == "invalid_token"
    assert revoked_events("password_changed")
    assert Api(ip=API_IP).login("robot", "another-long-passphrase").status == 200


def test_changing_ones_own_password_revokes_ones_tokens(admin, admin_api):
    change_own_password(admin, PASSWORD, "a-brand-new-passphrase")
    assert admin_api.get("/me").error == "invalid_token"
    assert revoked_events("password_changed")


def test_deleting_a_subadmin_deletes_its_tokens(admin_api, robot, robot_api):
    assert admin_api.delete(f"/subadmins/{robot.pk}").status == 204
    assert robot_api.get("/me").error == "invalid_token"
    assert not ApiToken.objects.filter(account_id=robot.pk).exists()


def test_other_changes_keep_the_tokens(admin_api, robot, robot_api):
    admin_api.patch(f"/subadmins/{robot.pk}", {"permissions": {"domains": "edit"}})
    assert robot_api.get("/me").body["permissions"]["domains"] == "edit"


def test_a_revocation_leaves_other_accounts_tokens_alone(admin_api, robot, robot_api):
    admin_api.patch(f"/subadmins/{robot.pk}", {"active": False})
    assert admin_api.get("/me").status == 200


def test_a_token_is_refused_from_an_ip_no_longer_allowed(admin, robot, robot_api):
    subadmins.update_subadmin(admin, robot, allowed_ips=["198.51.100.0/24"])
    answer = robot_api.get("/me")
    assert answer.status == 403
    assert answer.error == "ip_not_allowed"
    assert Event.objects.filter(event="api_token_refused", details__reason="ip_not_allowed")


def test_a_token_is_refused_from_another_ip_outside_the_list(robot_api):
    assert robot_api.get("/me", ip="192.0.2.1").error == "ip_not_allowed"


# Defence in depth: the services revoke on every such change; these rows are changed behind
# the services' back to prove the check at use holds on its own.


def test_a_token_of_an_account_made_inactive_elsewhere_is_refused(robot, robot_api):
    Account.objects.filter(pk=robot.pk).update(is_active=False)
    assert robot_api.get("/me").error == "invalid_token"


def test_a_token_of_an_account_without_api_access_any_more_is_refused(robot, robot_api):
    Account.objects.filter(pk=robot.pk).update(api_access=False)
    answer = robot_api.get("/me")
    assert answer.status == 403
    assert answer.error == "api_access_denied"


def test_checking_a_token_costs_no_password_hash(
    admin_api, monkeypatch, django_assert_max_num_queries
):
    def forbidden(*args, **kwargs):
        raise AssertionError("a token check must not hash a password")

    monkeypatch.setattr(Argon2idHasher, "verify", forbidden)
    monkeypatch.setattr(Argon2idHasher, "encode", forbidden)
    with django_assert_max_num_queries(1):
        assert admin_api.get("/me").status == 200


def test_the_last_used_ip_is_kept(admin, admin_api):
    admin_api.get("/me", ip="192.0.2.44")
    assert ApiToken.objects.get(account=admin).last_used_ip == "192.0.2.44"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        "Token abc",
        "Bearer not-a-token",
        "Bearer " + "A" * 43,
        "Bearer " + "A" * 10_000,
        "Bearer abc\r\nX-Injected: 1",
        "Bearer abc\x00def",
        "Bearer tökén",
        "Bearer ../../etc/passwd",
        "Bearer ' OR 1=1 --",
    ],
)
def test_a_bad_authorization_header_is_401(admin_api, header):
    answer = admin_api.get("/me", headers={"Authorization": header})
    assert answer.status == 401
    assert answer.error in {"invalid_token", "not_authenticated"}
    assert set(answer.body) == {"error", "message"}


def test_a_token_with_a_header_injection_appended_is_refused(admin_api):
    injected = f"Bearer {admin_api.token}\r\nX-Admin: yes"
    assert admin_api.get("/me", headers={"Authorization": injected}).status == 401


def test_the_scheme_name_is_case_insensitive(admin_api):
    assert (
        admin_api.get("/me", headers={"Authorization": f"bearer {admin_api.token}"}).status == 200
    )


def test_a_web_session_does_not_open_the_api(admin, api):
    api.client.post("/login", {"username": "admin", "password": PASSWORD})
    assert api.client.get("/").status_code == 200  # logged in on the web
    assert api.get("/me").status == 401
