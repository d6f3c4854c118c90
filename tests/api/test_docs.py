"""The OpenAPI schema and the interactive docs, served by the panel itself (no CDN)."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_lists_every_call_of_the_spec():
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    paths = {(path, method) for path, ops in schema["paths"].items() for method in ops}
    expected = {
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/logs", "get"),
        ("/api/v1/subadmins/{subadmin_id}/reset-2fa", "post"),
    }
    for resource in ("domains", "users", "aliases", "subadmins"):
        item = f"/api/v1/{resource}/{{{resource[:-1] if resource != 'aliases' else 'alias'}_id}}"
        expected |= {(f"/api/v1/{resource}", "get"), (f"/api/v1/{resource}", "post")}
        expected |= {(item, "get"), (item, "patch"), (item, "delete")}
    assert expected <= paths
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


def test_the_docs_page_loads_only_local_assets_and_no_inline_script():
    client = Client()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "cdn" not in page.lower()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts
    for attributes, body in scripts:
        if 'type="application/json"' in attributes:
            continue  # data, not code: CSP does not run it
        assert not body.strip(), "inline script would be blocked by the CSP"
        assert re.search(r'src="/static/', attributes)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        assert client.get(asset).status_code == 200, asset
