"""SPEC §17 across instances: an API key works on every instance, and once the Admin revokes it
on one (through Security → API keys), the other refuses its very next request."""

import json
import secrets

import requests

from testbed.cluster import ADMIN_PASSWORD, Browser

MAKE_KEY = """
import json
from adminpanel import clock
from adminpanel.accounts import api_keys
from adminpanel.accounts.models import Account
from adminpanel.subadmins.services import create_subadmin

admin = Account.objects.get(is_owner=True)
robot, _ = create_subadmin(
    admin, username={name!r}, password="cluster-robot-passphrase-7", web_access=False,
    api_access=True, allowed_ips=["127.0.0.1"], levels={{"domains": 2}},
)
created = api_keys.create_key(admin, name={name!r}, subadmin=robot.pk, now=clock.now())
print(json.dumps({{"key": created.key, "id": created.record.pk}}))
"""


def call(base_url: str, key: str, method: str = "GET", path: str = "/me", **kwargs):
    return requests.request(
        method,
        f"{base_url}/api/v1{path}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        **kwargs,
    )


def test_a_key_revoked_on_one_instance_is_refused_by_the_other_at_once(fleet, pg, a, b):
    name = f"billing-{secrets.token_hex(3)}"
    made = fleet.django_json(MAKE_KEY.format(name=name))
    key = made["key"]
    assert call(a, key).json()["api_key"]["name"] == name
    assert call(b, key).status_code == 200
    created = call(b, key, "POST", "/domains", json={"name": f"{name}.example"})
    assert created.status_code == 201

    admin = Browser(a)
    assert admin.password_step("admin", ADMIN_PASSWORD).headers["Location"] == "/"
    assert f"/security/api-keys/{made['id']}/revoke" in admin.get("/security/api-keys").text
    admin.get(f"/security/api-keys/{made['id']}/revoke")
    assert admin.post(f"/security/api-keys/{made['id']}/revoke").status_code == 302

    refused = call(b, key)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert call(a, key).status_code == 401

    # The change made through instance B names the key; the refusals after it are logged too.
    rows = pg.execute(
        "SELECT event, details FROM audit_event WHERE details->>'api_key' = %s ORDER BY id",
        [name],
    ).fetchall()
    events = [
        (event, details if isinstance(details, dict) else json.loads(details))
        for event, details in rows
    ]
    assert [event for event, _ in events] == [
        "api_key_created",
        "domain_created",
        "api_key_revoked",
        "api_key_refused",
        "api_key_refused",
    ]
    assert events[1][1]["domain"] == f"{name}.example"
