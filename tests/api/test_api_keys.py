"""API keys in the API (SPEC §17): a key acts as its API Sub-Admin, narrowed by its own allowed
IPs, stops at its expiry and at revocation, names itself in the Logs, and is one indexed query.
Keys are made through the service the Security → API keys page calls (the page has its own
tests in tests/integration/test_api_key_pages.py)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adminpanel import clock as panel_clock
from adminpanel.accounts import api_keys, joined
from adminpanel.accounts.models import Account, ApiKey
from adminpanel.accounts.permissions import NotPermitted
from adminpanel.audit.models import Event
from adminpanel.errors import Invalid
from adminpanel.subadmins import services as subadmins

pytestmark = pytest.mark.django_db

IN = "203.0.113.5"  # inside the robot's range and the key's own list
ALSO_IN = "203.0.113.6"  # inside the robot's range, outside the key's own list
OUT = "198.51.100.7"  # outside both


@pytest.fixture
def robot(make_subadmin) -> Account:
    """An API Sub-Admin: Domains Edit, Users View, allowed from 203.0.113.0/24."""
    return make_subadmin("robot", levels={"domains": 2, "users": 1}, allowed_ips=["203.0.113.0/24"])


def make_key(admin, account, name="Billing", **options) -> str:
    options.setdefault("now", panel_clock.now())
    return api_keys.create_key(admin, name=name, subadmin=account.pk, **options).key


@pytest.fixture
def key(admin, robot) -> str:
    return make_key(admin, robot)


def refused_reasons() -> list[str]:
    return [
        e.details["reason"] for e in Event.objects.filter(event="api_key_refused").order_by("id")
    ]


def test_a_key_acts_as_its_api_subadmin(api, key):
    me = api.get("/me", token=key, ip=IN)
    assert me.status == 200
    assert me.body["username"] == "robot"
    assert me.body["role"] == "Sub-Admin"
    assert me.body["api_key"] == {"name": "Billing", "allowed_ips": [], "expires_at": None}


def test_a_login_token_says_it_is_no_key(admin_api):
    assert admin_api.get("/me").body["api_key"] is None


def test_a_key_has_its_subadmins_permissions_and_no_more(api, key):
    assert api.get("/domains", token=key, ip=IN).status == 200
    assert api.post("/domains", {"name": "made-by-key.example"}, token=key, ip=IN).status == 201
    assert api.get("/users", token=key, ip=IN).status == 200
    mailbox = {"address": "a@made-by-key.example", "password": "a-long-mailbox-passphrase"}
    refused = api.post("/users", mailbox, token=key, ip=IN)
    assert (refused.status, refused.error) == (403, "permission_denied")
    assert api.get("/logs", token=key, ip=IN).error == "permission_denied"


def test_a_key_cannot_manage_subadmins_however_old_it_is(api, key, clock):
    clock.advance(hours=2)  # an old login token of the Admin would be told to log in again
    answer = api.get("/subadmins", token=key, ip=IN)
    assert (answer.status, answer.error) == (403, "permission_denied")
    created = api.post(
        "/subadmins",
        {"username": "sneaky", "password": "a-long-passphrase-1"},
        token=key,
        ip=IN,
    )
    assert created.error == "permission_denied"


def test_every_change_made_with_a_key_names_the_key_in_the_logs(api, admin_api, admin, key):
    assert api.post("/domains", {"name": "keyed.example"}, token=key, ip=IN).status == 201
    domain_id = api.get("/domains?search=keyed", token=key, ip=IN).body["items"][0]["id"]
    assert api.patch(f"/domains/{domain_id}", {"active": False}, token=key, ip=IN).status == 200
    made = Event.objects.filter(event__in=["domain_created", "domain_updated"]).order_by("id")
    assert [e.event for e in made] == ["domain_created", "domain_updated"]
    record = ApiKey.objects.get(name="Billing")
    for event in made:
        assert event.actor_name == "robot"
        assert event.details["api_key"] == "Billing"
        assert event.details["api_key_id"] == record.pk
    # The Admin reads it in the API's log too; a change made with a login token names no key.
    assert admin_api.post("/domains", {"name": "by-token.example"}).status == 201
    logs = admin_api.get("/logs?event=domain_created").body["items"]
    by_name = {item["details"]["domain"]: item["details"] for item in logs}
    assert by_name["keyed.example"]["api_key"] == "Billing"
    assert "api_key" not in by_name["by-token.example"]


def test_the_keys_own_allowed_ips_narrow_the_subadmins(api, admin, robot):
    key = make_key(admin, robot, allowed_ips=[f"{IN}/32"])
    assert api.get("/me", token=key, ip=IN).status == 200
    inside_account_only = api.get("/me", token=key, ip=ALSO_IN)
    assert (inside_account_only.status, inside_account_only.error) == (403, "ip_not_allowed")
    assert inside_account_only.body["message"] == api_keys.KEY_IP_NOT_ALLOWED
    outside_both = api.get("/me", token=key, ip=OUT)
    assert (outside_both.status, outside_both.error) == (403, "ip_not_allowed")
    assert refused_reasons() == ["key_ip_not_allowed", "ip_not_allowed"]
    assert all(
        e.details["api_key"] == "Billing" for e in Event.objects.filter(event="api_key_refused")
    )


def test_a_key_without_its_own_ips_has_the_subadmins(api, key):
    assert api.get("/me", token=key, ip=ALSO_IN).status == 200
    assert api.get("/me", token=key, ip=OUT).error == "ip_not_allowed"


def test_a_key_stops_at_its_expiry(api, admin, robot, clock):
    key = make_key(admin, robot, expires_at=clock.current + timedelta(days=1), now=clock.current)
    clock.advance(hours=23, minutes=59)
    assert api.get("/me", token=key, ip=IN).status == 200
    clock.advance(minutes=1)
    expired = api.get("/me", token=key, ip=IN)
    assert (expired.status, expired.error) == (401, "invalid_token")
    assert expired.body["message"] == api_keys.EXPIRED_KEY
    assert refused_reasons() == ["expired"]


def test_a_revoked_key_is_refused_at_its_next_request(api, admin, key):
    assert api.get("/me", token=key, ip=IN).status == 200
    record = ApiKey.objects.get(name="Billing")
    assert api_keys.revoke_key(admin, record, now=panel_clock.now()) is True
    refused = api.get("/me", token=key, ip=IN)
    assert (refused.status, refused.error) == (401, "invalid_token")
    assert refused.body["message"] == api_keys.REVOKED_KEY
    assert api_keys.revoke_key(admin, record, now=panel_clock.now()) is False  # once
    revoked = Event.objects.get(event="api_key_revoked")
    assert (revoked.actor_name, revoked.details["api_key"]) == ("admin", "Billing")
    assert revoked.details["reason"] == "revoked"


@pytest.mark.parametrize(
    "bearer",
    ["apk_" + "A" * 43, "apk_short", "apk_" + "A" * 42 + "!", "apk_" + "é" * 43],
)
def test_an_unknown_or_malformed_key_is_401(api, key, bearer):
    answer = api.get("/me", token=bearer, ip=IN)
    assert (answer.status, answer.error) == (401, "invalid_token")
    assert answer.body["message"] == api_keys.INVALID_KEY
    assert not Event.objects.filter(event="api_key_refused").exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"active": False}, "deactivated"),
        ({"access": {"admin_panel": False, "api": False}}, None),  # refused: no access at all
        ({"access": {"admin_panel": True, "api": False}}, "api_access_removed"),
        ({"access": {"admin_panel": True, "api": True}}, "web_access_given"),
    ],
)
def test_the_subadmins_changes_end_its_keys(api, admin_api, robot, key, change, reason):
    answer = admin_api.patch(f"/subadmins/{robot.pk}", change)
    if reason is None:
        assert answer.status == 422
        assert api.get("/me", token=key, ip=IN).status == 200
        return
    assert answer.status == 200
    assert api.get("/me", token=key, ip=IN).error == "invalid_token"
    revoked = Event.objects.get(event="api_key_revoked")
    assert (revoked.actor_name, revoked.details["reason"]) == ("admin", reason)
    assert ApiKey.objects.get(name="Billing").revoked_reason == reason


def test_deleting_the_subadmin_ends_its_keys_and_the_log_names_them(api, admin_api, robot, key):
    assert admin_api.delete(f"/subadmins/{robot.pk}").status == 204
    assert api.get("/me", token=key, ip=IN).error == "invalid_token"
    revoked = Event.objects.get(event="api_key_revoked")
    assert revoked.details == {
        "api_key": "Billing",
        "api_key_id": revoked.details["api_key_id"],
        "subadmin": "robot",
        "reason": "deleted",
    }


def test_a_new_password_for_the_subadmin_keeps_its_keys(api, admin_api, robot, key):
    answer = admin_api.patch(f"/subadmins/{robot.pk}", {"password": "another-long-passphrase"})
    assert answer.status == 200
    assert api.get("/me", token=key, ip=IN).status == 200


def test_the_password_login_keeps_working_beside_keys(api, robot, key):
    login = api.post(
        "/auth/login",
        {"username": "robot", "password": "correct-horse-battery-staple"},
        ip=IN,
    )
    assert login.status == 200
    token = login.body["token"]
    assert api.get("/me", token=token, ip=IN).body["api_key"] is None
    assert api.get("/me", token=key, ip=IN).body["api_key"]["name"] == "Billing"


def test_logout_with_a_key_is_refused_and_the_key_keeps_working(api, key):
    answer = api.post("/auth/logout", token=key, ip=IN)
    assert (answer.status, answer.error) == (400, "api_key_not_logged_out")
    assert api.get("/me", token=key, ip=IN).status == 200


def test_the_key_is_stored_only_as_its_sha256_and_never_logged(api, key):
    assert key.startswith("apk_") and len(key) == 47
    record = ApiKey.objects.get(name="Billing")
    assert record.key_hash == joined.hash_secret(key) and key not in record.key_hash
    assert record.hint == key[-4:]
    api.post("/domains", {"name": "quiet.example"}, token=key, ip=IN)
    api.get("/me", token=key, ip=OUT)
    for event in Event.objects.all():
        assert key not in str(event.details) and key[4:] not in str(event.details)


def test_last_used_says_when_and_from_where_and_is_written_at_most_once_a_minute(api, key, clock):
    record = ApiKey.objects.get(name="Billing")
    assert (record.last_used_at, record.last_used_ip) == (None, "")
    api.get("/me", token=key, ip=IN)
    record.refresh_from_db()
    assert (record.last_used_at, record.last_used_ip) == (clock.current, IN)
    first = clock.current
    clock.advance(seconds=59)
    api.get("/me", token=key, ip=IN)
    record.refresh_from_db()
    assert record.last_used_at == first  # not rewritten within the minute
    api.get("/me", token=key, ip=ALSO_IN)  # another address: written at once
    record.refresh_from_db()
    assert (record.last_used_at, record.last_used_ip) == (clock.current, ALSO_IN)
    clock.advance(seconds=60)
    api.get("/me", token=key, ip=ALSO_IN)
    record.refresh_from_db()
    assert record.last_used_at == clock.current


def test_a_key_check_is_one_query(key, clock):
    now = clock.current
    api_keys.authenticate_key(key, ip=IN, now=now)  # the first use writes "last used"
    with CaptureQueriesContext(connection) as queries:
        found = api_keys.authenticate_key(key, ip=IN, now=now + timedelta(seconds=30))
    assert found.account.username == "robot"
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert "key_hash" in queries[0]["sql"] and "JOIN" in queries[0]["sql"]
    with CaptureQueriesContext(connection) as queries:
        api_keys.authenticate_key(key, ip=IN, now=now + timedelta(minutes=2))
    assert len(queries) == 2  # the lookup, and "last used" once a minute


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_key_lookup_is_an_index_scan_on_postgresql(robot, key):
    # A few thousand keys, so that the plan is the one a real table gets.
    ApiKey.objects.bulk_create(
        ApiKey(
            name=f"key {n}",
            account=robot,
            key_hash=joined.hash_secret(f"key {n}"),
            hint="abcd",
            created_by="admin",
        )
        for n in range(3000)
    )
    sql = joined._lookup(ApiKey, "key_hash")[0]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_apikey")
        cursor.execute("EXPLAIN " + sql, [joined.hash_secret(key)])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using accounts_apikey_key_hash" in plan, plan
    assert "Index Cond: ((key_hash)::text = " in plan, plan
    # The keys are found by the index; the one account row joined to the key may be read
    # however the planner likes (a table of a few Sub-Admins is cheaper to scan).
    assert "Seq Scan on accounts_apikey" not in plan, plan


def test_keys_act_only_as_active_api_only_subadmins(admin, make_subadmin, robot):
    both = make_subadmin("both", web_access=True, api_access=True)
    web = make_subadmin("web", web_access=True, api_access=False)
    off = make_subadmin("off", active=False)
    for account in (both, web, off, admin):
        with pytest.raises(Invalid) as refused:
            make_key(admin, account, name=f"for {account.username}")
        assert refused.value.field == "subadmin"
    assert list(api_keys.subadmins_for_keys(admin)) == [robot]
    for bad in (None, "", "x", -1, 2**70, robot.pk + 1000):
        with pytest.raises(Invalid):
            api_keys.create_key(admin, name="x", subadmin=bad, now=panel_clock.now())


def test_only_the_admin_makes_lists_and_revokes_keys(admin, robot, key, make_subadmin):
    other, _ = subadmins.create_subadmin(
        admin,
        username="helper",
        password="correct-horse-battery-staple",
        levels={"domains": 3, "users": 3, "aliases": 3, "logs": 3},
    )
    record = ApiKey.objects.get(name="Billing")
    for call in (
        lambda: make_key(other, robot, name="mine"),
        lambda: api_keys.list_keys(other),
        lambda: api_keys.revoke_key(other, record, now=panel_clock.now()),
        lambda: api_keys.subadmins_for_keys(other),
    ):
        with pytest.raises(NotPermitted):
            call()


def test_two_live_keys_never_share_a_name(admin, robot, key):
    with pytest.raises(Invalid) as refused:
        make_key(admin, robot, name="billing")  # whatever the case
    assert refused.value.field == "name"
    api_keys.revoke_key(admin, ApiKey.objects.get(name="Billing"), now=panel_clock.now())
    assert make_key(admin, robot, name="Billing").startswith("apk_")


@pytest.mark.parametrize(
    ("name", "field"),
    [("", "name"), ("   ", "name"), ("x" * 101, "name"), ("tab\there", "name"), (None, "name")],
)
def test_a_key_needs_a_printable_name(admin, robot, name, field):
    with pytest.raises(Invalid) as refused:
        make_key(admin, robot, name=name)
    assert refused.value.field == field


def test_an_expiry_in_the_past_is_refused(admin, robot, clock):
    with pytest.raises(Invalid) as refused:
        make_key(admin, robot, expires_at=clock.current, now=clock.current)
    assert refused.value.field == "expires"


def test_keys_are_not_managed_through_the_api(api):
    """Decided (README "API keys"): a key cannot make or revoke keys; the page alone does."""
    paths = api.get("/openapi.json").body["paths"]
    assert not [path for path in paths if "api-key" in path.lower() or "api_key" in path.lower()]
    assert not [path for path in paths if path.rstrip("/").endswith("/keys")]
