"""SPEC §14, the Admin side of the owners' 2FA through the API: `two_factor_enabled` on a user
and on a page of users (in the page's own query), POST /users/{id}/reset-2fa (Users: Edit,
logged, mailed to the mailbox), and the notices the owner's own changes send to the mailbox."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adminpanel.accounts.models import Level
from adminpanel.audit.models import Event
from adminpanel.mail.models import Mailbox
from adminpanel.notices.models import Notice
from adminpanel.twofactor import interface as twofactor
from tests.api.client import Api
from tests.owners import owner_of, owner_with_2fa

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
    assert answer.body["two_factor_enabled"] is False
    return Mailbox.objects.get(pk=answer.body["id"])


def test_users_show_the_owners_2fa_in_the_pages_own_query(admin_api, domain, clock):
    boxes = [add(admin_api, f"u{i}@example.com") for i in range(4)]
    for box in boxes[1:3]:
        owner_with_2fa(box, clock)
    with CaptureQueriesContext(connection) as queries:
        answer = admin_api.get("/users")
    by_address = {item["address"]: item["two_factor_enabled"] for item in answer.body["items"]}
    assert by_address == {f"u{i}@example.com": i in (1, 2) for i in range(4)}
    factor_queries = [q for q in queries if "twofactor_" in q["sql"]]
    assert len(factor_queries) == 1  # the page's own query, not one per mailbox
    (sql,) = [q["sql"] for q in factor_queries]
    # One EXISTS per kind of factor: the page's "2FA on" is read from them, not asked again.
    assert sql.count("twofactor_totpdevice") == 1 and sql.count("twofactor_webauthnkey") == 1
    assert admin_api.get(f"/users/{boxes[1].pk}").body["two_factor_enabled"] is True


def test_reset_2fa_turns_it_off_logs_it_and_tells_the_owner_at_the_mailbox(
    admin_api, domain, clock, settings
):
    settings.NOTICES_ENABLED = True
    box = add(admin_api, "ann@example.com")
    owner_with_2fa(box, clock)
    enabled = Notice.objects.get(event="2fa_enabled")
    assert enabled.to == "ann@example.com" and "turned on for your mailbox" in enabled.body
    answer = admin_api.post(f"/users/{box.pk}/reset-2fa")
    assert answer.status == 200 and answer.body["two_factor_enabled"] is False
    assert not twofactor.is_enabled(owner_of(box))
    logged = Event.objects.get(event="2fa_reset")
    assert logged.actor_name == "admin" and logged.details["account"] == "ann@example.com"
    notice = Notice.objects.get(event="2fa_reset")
    assert notice.to == "ann@example.com" and "An administrator reset" in notice.body


def test_reset_2fa_needs_users_edit(admin_api, make_subadmin, domain, clock):
    box = add(admin_api, "bob@example.com")
    owner_with_2fa(box, clock)
    viewer = Api()
    make_subadmin("viewer", levels={"users": Level.VIEW})
    assert viewer.login("viewer").status == 200
    assert viewer.get(f"/users/{box.pk}").body["two_factor_enabled"] is True
    assert viewer.post(f"/users/{box.pk}/reset-2fa").status == 403
    assert twofactor.is_enabled(owner_of(box))


def test_reset_2fa_of_a_mailbox_without_2fa_is_refused_unlogged_and_unmailed(
    admin_api, domain, settings
):
    """As the web's Reset 2FA of such a mailbox: the same words, nothing done, no notice."""
    settings.NOTICES_ENABLED = True
    box = add(admin_api, "dee@example.com")
    answer = admin_api.post(f"/users/{box.pk}/reset-2fa")
    assert answer.status == 409 and answer.body == {
        "error": "two_factor_not_enabled",
        "message": "The owner of dee@example.com has no two-factor authentication: there is "
        "nothing to reset.",
    }
    assert not Event.objects.filter(event="2fa_reset").exists()
    assert not Notice.objects.filter(event="2fa_reset").exists()


@pytest.mark.parametrize("user_id", ["abc", "0", "99999", "1%00", "1'", "_"])
def test_reset_2fa_of_no_such_mailbox_is_404(admin_api, domain, user_id):
    answer = admin_api.post(f"/users/{user_id}/reset-2fa")
    assert answer.status in (404, 422) and "error" in answer.body


def test_the_owners_own_changes_are_mailed_to_the_mailbox(admin_api, domain, clock, settings):
    settings.NOTICES_ENABLED = True
    box = add(admin_api, "cy@example.com")
    owner = owner_with_2fa(box, clock)
    twofactor.verify(owner.account, owner.recovery_codes[0], purpose="login", now=clock())
    used = Notice.objects.get(event="2fa_recovery_code_used")
    assert used.to == "cy@example.com"
    assert Event.objects.get(event="2fa_recovery_code_used").actor_name == "cy@example.com"
