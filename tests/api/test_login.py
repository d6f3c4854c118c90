"""POST /api/v1/auth/login (SPEC §6): a token, or one of the refusal codes, each audited."""

import hashlib
from datetime import timedelta

import pytest

from adminpanel.accounts.models import ApiToken
from adminpanel.api import services as api_services
from adminpanel.audit.models import Event
from adminpanel.subadmins import services as subadmins
from tests.api.client import API_IP, PASSWORD, Api

pytestmark = pytest.mark.django_db


def last_event(name: str) -> Event:
    event = Event.objects.filter(event=name).order_by("-id").first()
    assert event is not None, f"no {name} event"
    return event


def test_the_admin_without_2fa_gets_a_bearer_token_for_one_hour(admin, api, clock):
    answer = api.login("admin")
    assert answer.status == 200
    assert set(answer.body) == {"token", "token_type", "expires_at"}
    assert answer.body["token_type"] == "Bearer"
    assert len(answer.body["token"]) == 43  # 256 bits, URL-safe base64
    stored = ApiToken.objects.get(account=admin)
    assert stored.expires_at == clock() + timedelta(hours=1)
    assert answer.body["expires_at"].startswith(stored.expires_at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_a_token_is_stored_only_as_its_sha256(admin, api):
    token = api.login("admin").body["token"]
    stored = ApiToken.objects.get(account=admin)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not ApiToken.objects.filter(token_hash=token).exists()
    assert token not in str(list(Event.objects.values()))


def test_every_token_is_new(admin, api):
    assert api.login("admin").body["token"] != api.login("admin").body["token"]


def test_a_wrong_password_is_refused_with_invalid_credentials(admin, api):
    answer = api.login("admin", "wrong-password-123")
    assert answer.status == 401
    assert answer.body == {
        "error": "invalid_credentials",
        "message": "Invalid username or password.",
    }
    assert last_event("api_login_failed").actor_id == admin.pk


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(admin, api):
    unknown = api.login("nobody-here")
    wrong = api.login("admin", "wrong-password-123")
    assert unknown.status == wrong.status == 401
    assert unknown.body == wrong.body
    failed = Event.objects.filter(event="api_login_failed").earliest("id")  # the unknown one
    assert failed.actor_name == "" and failed.details == {"account": "unknown"}
    assert not Event.objects.filter(actor_name="nobody-here").exists()


def test_a_deactivated_account_gets_invalid_credentials(make_subadmin, api):
    make_subadmin("sleeper", active=False)
    assert api.login("sleeper").error == "invalid_credentials"


def test_an_account_with_2fa_is_refused_with_two_factor_enabled(admin, api, enable_2fa):
    enable_2fa(admin)
    answer = api.login("admin")
    assert answer.status == 403
    assert answer.error == "two_factor_enabled"
    assert "2FA" in answer.body["message"] or "Two-factor" in answer.body["message"]
    assert "Sub-Admin with API access" in answer.body["message"]
    event = last_event("api_login_refused")
    assert event.details == {"reason": "two_factor_enabled"}
    assert not ApiToken.objects.filter(account=admin).exists()


def test_two_factor_enabled_is_told_only_after_the_right_password(admin, api, enable_2fa):
    enable_2fa(admin)
    assert api.login("admin", "wrong-password-123").error == "invalid_credentials"


def test_admin_with_2fa_is_refused_while_an_api_subadmin_from_an_allowed_ip_works(
    admin, enable_2fa, make_subadmin
):
    enable_2fa(admin)
    assert Api().login("admin").error == "two_factor_enabled"
    make_subadmin("robot", levels={"domains": 2}, allowed_ips=["203.0.113.0/24"])
    robot = Api(ip=API_IP)
    assert robot.login("robot").status == 200
    created = robot.post("/domains", {"name": "example.org"})
    assert created.status == 201
    assert created.body["name"] == "example.org"
    assert last_event("domain_created").actor_name == "robot"


def test_a_subadmin_without_api_access_is_refused_with_api_access_denied(make_subadmin, api):
    make_subadmin("webby", web_access=True, api_access=False)
    answer = api.login("webby")
    assert answer.status == 403
    assert answer.error == "api_access_denied"
    assert last_event("api_login_refused").details == {"reason": "api_access_denied"}


def test_a_login_from_outside_the_allowed_ips_reads_like_a_wrong_password(make_subadmin):
    """SPEC §6: no answer tells that the account exists; the log has the real reason."""
    make_subadmin("robot", allowed_ips=["203.0.113.0/24"])
    answer = Api(ip="198.51.100.7").login("robot")
    assert answer.status == 401
    assert answer.body == Api(ip="198.51.100.7").login("nobody").body
    assert answer.error == "invalid_credentials"
    event = last_event("api_login_refused")
    assert event.details == {"reason": "ip_not_allowed"}
    assert event.ip == "198.51.100.7"


def test_too_many_wrong_passwords_are_refused_with_429_and_retry_after(admin, api):
    for _ in range(10):
        assert api.login("admin", "wrong-password-123").status == 401
    answer = api.login("admin")  # even the right password waits now
    assert answer.status == 429
    assert answer.error == "too_many_attempts"
    assert 0 < int(answer.headers["Retry-After"]) <= 15 * 60
    assert "Try again in" in answer.body["message"]
    assert last_event("api_login_throttled").actor_name == "admin"


def test_the_password_window_counts_per_client_ip(admin, api):
    for _ in range(10):
        api.login("admin", "wrong-password-123")
    assert Api(ip="198.51.100.9").login("admin").status == 200


def test_a_successful_login_is_audited_with_ip_and_user_agent(admin):
    answer = Api(ip=API_IP).login("admin", headers={"User-Agent": "deploy-bot/1.0"})
    assert answer.status == 200
    event = last_event("api_login")
    assert (event.actor_id, event.ip, event.user_agent) == (admin.pk, API_IP, "deploy-bot/1.0")
    assert event.details == {"two_factor": False}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "admin"}, "password"),
        ({"password": PASSWORD}, "username"),
        ({"username": 7, "password": PASSWORD}, "username"),
        ({"username": "admin", "password": ["x"]}, "password"),
    ],
)
def test_a_bad_login_body_names_the_field(admin, api, body, field):
    answer = api.post("/auth/login", body)
    assert answer.status == 422
    assert answer.error == "validation_error"
    assert field in answer.body["fields"]


def test_a_password_never_appears_in_the_log(admin, api):
    api.login("admin", "wrong-password-123")
    api.login("admin")
    dumped = str(list(Event.objects.values()))
    assert PASSWORD not in dumped and "wrong-password-123" not in dumped


def test_a_password_change_during_the_login_leaves_no_token(admin, make_subadmin, monkeypatch):
    robot = make_subadmin("robot")
    real_step = api_services.check_password_step

    def step_then_admin_changes_password(*args, **kwargs):
        account = real_step(*args, **kwargs)
        subadmins.update_subadmin(admin, robot, password="another-long-passphrase")
        return account

    monkeypatch.setattr(api_services, "check_password_step", step_then_admin_changes_password)
    assert Api().login("robot").error == "invalid_credentials"
    assert not ApiToken.objects.filter(account=robot, revoked_at__isnull=True).exists()


def test_2fa_enabled_during_the_login_leaves_no_token(admin, enable_2fa, monkeypatch):
    real_step = api_services.check_password_step

    def step_then_2fa_enabled(*args, **kwargs):
        account = real_step(*args, **kwargs)
        enable_2fa(admin)
        return account

    monkeypatch.setattr(api_services, "check_password_step", step_then_2fa_enabled)
    assert Api().login("admin").error == "two_factor_enabled"
    assert not ApiToken.objects.filter(account=admin).exists()


def test_an_overlong_unknown_field_name_is_cut_short_in_the_answer(admin, api):
    answer = api.post("/auth/login", {"username": "a", "password": "b", "k" * 5000: 1})
    assert answer.status == 422
    assert all(len(name) <= 100 for name in answer.body["fields"])
