"""GET /api/v1/domains/{id}/dns and the DKIM key's rotation (SPEC §15)."""

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adminpanel.accounts.models import Level
from adminpanel.audit.models import Event
from adminpanel.mail.models import DkimKey

pytestmark = pytest.mark.django_db

MAIL_HOST = "mail.example.net"


@pytest.fixture(autouse=True)
def mail_host(settings):
    settings.MAIL_HOST = MAIL_HOST


@pytest.fixture
def domain_id(admin_api) -> int:
    created = admin_api.post("/domains", {"name": "Bücher.example"})
    assert created.status == 201, created.body
    return created.body["id"]


def by_type(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r["type"] == kind]


def test_the_records_a_domain_needs_each_type_name_and_value(admin_api, domain_id):
    answer = admin_api.get(f"/domains/{domain_id}/dns")
    assert answer.status == 200
    records = answer.body
    assert all(set(r) == {"type", "name", "value"} for r in records)
    name = "xn--bcher-kva.example"  # A-labels: what DNS holds
    assert by_type(records, "MX") == [{"type": "MX", "name": name, "value": f"10 {MAIL_HOST}"}]
    txt = {r["name"]: r["value"] for r in by_type(records, "TXT")}
    assert txt[name] == "v=spf1 mx -all"
    assert txt[f"_dmarc.{name}"].startswith("v=DMARC1; p=quarantine")
    assert {r["name"]: r["value"] for r in by_type(records, "CNAME")} == {
        f"autoconfig.{name}": MAIL_HOST,
        f"autodiscover.{name}": MAIL_HOST,
    }
    srv = {r["name"]: r["value"].split() for r in by_type(records, "SRV")}
    assert {n: (v[2], v[3]) for n, v in srv.items()} == {
        f"_imaps._tcp.{name}": ("993", MAIL_HOST),
        f"_imap._tcp.{name}": ("143", MAIL_HOST),
        f"_submissions._tcp.{name}": ("465", MAIL_HOST),
        f"_submission._tcp.{name}": ("587", MAIL_HOST),
    }
    assert all(not r["name"].endswith(".") and '"' not in r["value"] for r in records)


@pytest.mark.usefixtures("production_dkim_keys")
def test_the_dkim_record_publishes_the_domains_own_2048_bit_key(admin_api, domain_id):
    records = admin_api.get(f"/domains/{domain_id}/dns").body
    [dkim] = [r for r in records if "._domainkey." in r["name"]]
    key = DkimKey.objects.get(domain_id=domain_id)
    assert dkim["name"] == f"{key.selector}._domainkey.xn--bcher-kva.example"
    tags = dict(tag.strip().split("=", 1) for tag in dkim["value"].split(";"))
    assert tags["v"] == "DKIM1" and tags["k"] == "rsa"
    public = serialization.load_der_public_key(base64.b64decode(tags["p"]))
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048


def test_an_alias_domain_gets_mx_spf_dmarc_and_the_targets_dkim_keys_under_its_own_name(
    admin_api, domain_id
):
    """Mail from the alias domain is signed with d= the alias domain (DMARC alignment), with
    the target's keys: each published key of the target is published under its name too."""
    created = admin_api.post("/alias-domains", {"name": "bücher.org", "target": "bücher.example"})
    assert created.status == 201, created.body
    old = DkimKey.objects.get(domain_id=domain_id)
    new = admin_api.post(f"/domains/{domain_id}/dkim/rotate").body["selector"]
    records = admin_api.get(f"/domains/{domain_id}/dns").body
    alias = "xn--bcher-kva.org"
    assert [r for r in records if r["name"].endswith(alias)] == [
        {"type": "MX", "name": alias, "value": f"10 {MAIL_HOST}"},
        {"type": "TXT", "name": alias, "value": "v=spf1 mx -all"},
        {
            "type": "TXT",
            "name": f"{new}._domainkey.{alias}",
            "value": next(r for r in records if r["name"].startswith(f"{new}."))["value"],
        },
        {
            "type": "TXT",
            "name": f"{old.selector}._domainkey.{alias}",
            "value": f"v=DKIM1; k=rsa; p={old.public_key}",
        },
        {
            "type": "TXT",
            "name": f"_dmarc.{alias}",
            "value": f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{alias}",
        },
    ]
    # The domain's own records come first: the rotation's answer names the domain's record.
    assert records[0]["name"] == "xn--bcher-kva.example"


def test_no_answer_holds_the_private_key(admin_api, domain_id):
    key = DkimKey.objects.get(domain_id=domain_id)
    answers = [
        admin_api.get(f"/domains/{domain_id}").body,
        admin_api.get(f"/domains/{domain_id}/dns").body,
        admin_api.post(f"/domains/{domain_id}/dkim/rotate").body,
    ]
    for answer in answers:
        assert key.private_key not in str(answer)
    assert "private" not in str(list(Event.objects.values_list("details", flat=True)))


def test_rotation_publishes_a_new_selector_and_keeps_the_old_until_removed(admin_api, domain_id):
    old = DkimKey.objects.get(domain_id=domain_id).selector
    rotated = admin_api.post(f"/domains/{domain_id}/dkim/rotate")
    assert rotated.status == 200
    new = rotated.body["selector"]
    assert new != old and rotated.body["old_selectors"] == [old]
    assert rotated.body["record"]["name"] == f"{new}._domainkey.xn--bcher-kva.example"
    names = [r["name"].split(".")[0] for r in admin_api.get(f"/domains/{domain_id}/dns").body]
    assert names.count(new) == 1 and names.count(old) == 1
    assert names.index(new) < names.index(old)  # the signing key first
    removed = admin_api.post(f"/domains/{domain_id}/dkim/remove-old-key")
    assert removed.status == 200 and removed.body == {"removed": [old]}
    names = [r["name"].split(".")[0] for r in admin_api.get(f"/domains/{domain_id}/dns").body]
    assert new in names and old not in names
    again = admin_api.post(f"/domains/{domain_id}/dkim/remove-old-key")
    assert again.status == 200 and again.body == {"removed": []}
    logged = [e.details for e in Event.objects.filter(event__startswith="dkim_").order_by("id")]
    assert logged == [
        {"domain": "xn--bcher-kva.example", "selector": new},
        {"domain": "xn--bcher-kva.example", "selectors": [old]},
    ]


def test_rotating_again_and_again_stops_at_three_old_keys(admin_api, domain_id):
    for _ in range(3):
        assert admin_api.post(f"/domains/{domain_id}/dkim/rotate").status == 200
    refused = admin_api.post(f"/domains/{domain_id}/dkim/rotate")
    assert refused.status == 409
    assert refused.body["error"] == "old_dkim_keys"
    assert "remove the old keys" in refused.body["message"]
    assert DkimKey.objects.filter(domain_id=domain_id).count() == 4


def test_dns_records_need_domains_view_and_rotation_domains_edit(
    admin_api, domain_id, make_subadmin, api
):
    make_subadmin("viewer", levels={"domains": Level.VIEW.value})
    make_subadmin("blind", levels={})
    viewer = type(api)()
    assert viewer.login("viewer").status == 200
    assert viewer.get(f"/domains/{domain_id}/dns").status == 200
    for path in ["rotate", "remove-old-key"]:
        refused = viewer.post(f"/domains/{domain_id}/dkim/{path}")
        assert refused.status == 403 and refused.body["error"] == "permission_denied"
    blind = type(api)()
    assert blind.login("blind").status == 200
    assert blind.get(f"/domains/{domain_id}/dns").status == 403
    assert api.get(f"/domains/{domain_id}/dns").status == 401
    assert DkimKey.objects.filter(domain_id=domain_id).count() == 1


@pytest.mark.parametrize(
    "bad_id", ["999999", "0", "-1", "abc", "1.5", "99999999999999999999999", "%00", "1%20"]
)
@pytest.mark.parametrize(
    ("method", "path"), [("GET", "dns"), ("POST", "dkim/rotate"), ("POST", "dkim/remove-old-key")]
)
def test_a_bad_domain_id_gets_a_4xx_json_answer(admin_api, bad_id, method, path):
    answer = admin_api.call(method, f"/domains/{bad_id}/{path}")
    assert 400 <= answer.status < 500, (bad_id, answer.status, answer.body)
    assert isinstance(answer.body, dict) and {"error", "message"} <= set(answer.body)
