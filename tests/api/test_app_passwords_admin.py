"""SPEC §14, the Admin side through the API: the two domain settings, each mailbox's number of
app passwords (no query per mailbox), and Revoke app passwords (Users: Edit, logged, mailed to
the mailbox). What Dovecot then does is in tests/mailserver/test_app_passwords.py."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adminpanel.accounts.models import Level
from adminpanel.audit.models import Event
from adminpanel.mail import app_passwords
from adminpanel.mail.models import Mailbox
from adminpanel.notices.models import Notice
from tests.api.client import Api

pytestmark = pytest.mark.django_db

PASSWORD = "Mailbox-Cobalt-Harbor-27"


@pytest.fixture
def domain(admin_api) -> dict:
    answer = admin_api.post("/domains", {"name": "example.com"})
    assert answer.status == 201
    return answer.body


def add(api, address: str) -> Mailbox:
    answer = api.post("/users", {"address": address, "password": PASSWORD})
    assert answer.status == 201, answer.body
    return Mailbox.objects.get(pk=answer.body["id"])


def test_the_domain_settings_default_to_mailbox_password_allowed_and_no_owner_2fa(domain):
    assert domain["mail_apps_may_use_mailbox_password"] is True
    assert domain["require_owner_2fa"] is False


def test_the_domain_settings_are_set_on_create_and_changed_by_patch(admin_api, domain):
    answer = admin_api.post(
        "/domains",
        {"name": "strict.example", "mail_apps_may_use_mailbox_password": False,
         "require_owner_2fa": True},
    )  # fmt: skip
    assert answer.status == 201
    assert answer.body["mail_apps_may_use_mailbox_password"] is False
    assert answer.body["require_owner_2fa"] is True
    changed = admin_api.patch(f"/domains/{domain['id']}", {"require_owner_2fa": True})
    assert changed.status == 200 and changed.body["require_owner_2fa"] is True
    assert changed.body["mail_apps_may_use_mailbox_password"] is True  # untouched
    logged = Event.objects.filter(event="domain_updated").latest("id")
    assert logged.details["require_owner_2fa"] is True


@pytest.mark.parametrize("value", ["yes please", 7, [True], {"a": 1}, "\u0000"])
def test_a_bad_setting_is_a_4xx_naming_the_field(admin_api, domain, value):
    answer = admin_api.patch(f"/domains/{domain['id']}", {"require_owner_2fa": value})
    assert 400 <= answer.status < 500
    # A NUL is refused before the fields are read, and says so.
    assert ("require_owner_2fa" if "\0" not in str(value) else "NUL") in str(answer.body)


def test_users_show_the_number_of_active_app_passwords_in_one_query(admin_api, domain):
    boxes = [add(admin_api, f"u{i}@example.com") for i in range(5)]
    for count, box in enumerate(boxes):
        for n in range(count):
            app_passwords.create_app_password(box, name=f"App {n}")
    app_passwords.revoke_app_password(boxes[4], app_passwords.app_passwords_of(boxes[4]).first().pk)
    with CaptureQueriesContext(connection) as queries:
        answer = admin_api.get("/users")
    by_address = {item["address"]: item["app_passwords"] for item in answer.body["items"]}
    assert by_address == {f"u{i}@example.com": min(i, 3) if i == 4 else i for i in range(5)}
    mailbox_queries = [q for q in queries if "mail_apppassword" in q["sql"]]
    assert len(mailbox_queries) == 1  # the page's own query, not one per mailbox
    assert admin_api.get(f"/users/{boxes[2].pk}").body["app_passwords"] == 2


def test_revoke_app_passwords_revokes_all_logs_it_and_tells_the_owner_at_the_mailbox(
    admin_api, domain, settings
):
    settings.NOTICES_ENABLED = True
    box = add(admin_api, "ann@example.com")
    for name in ("Phone", "Laptop"):
        app_passwords.create_app_password(box, name=name)
    answer = admin_api.post(f"/users/{box.pk}/revoke-app-passwords")
    assert answer.status == 200
    assert answer.body["revoked"] == 2 and answer.body["user"]["app_passwords"] == 0
    logged = Event.objects.get(event="app_passwords_revoked")
    assert logged.actor_name == "admin" and logged.details["count"] == 2
    notice = Notice.objects.get(event="app_passwords_revoked")
    assert notice.to == "ann@example.com" and "revoked every app password" in notice.body
    again = admin_api.post(f"/users/{box.pk}/revoke-app-passwords")
    assert again.status == 200 and again.body["revoked"] == 0
    assert Notice.objects.filter(event="app_passwords_revoked").count() == 1  # nothing new


def test_revoke_app_passwords_needs_users_edit(admin_api, make_subadmin, domain):
    box = add(admin_api, "bob@example.com")
    app_passwords.create_app_password(box, name="Phone")
    viewer = Api()
    make_subadmin("viewer", levels={"users": Level.VIEW})
    assert viewer.login("viewer").status == 200
    assert viewer.get(f"/users/{box.pk}").body["app_passwords"] == 1
    assert viewer.post(f"/users/{box.pk}/revoke-app-passwords").status == 403
    assert app_passwords.active_count(box) == 1


@pytest.mark.parametrize("user_id", ["abc", "0", "99999", "1%00"])
def test_revoking_for_no_such_mailbox_is_404(admin_api, domain, user_id):
    answer = admin_api.post(f"/users/{user_id}/revoke-app-passwords")
    assert answer.status in (404, 422)
