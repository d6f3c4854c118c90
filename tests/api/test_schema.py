"""Schemathesis against our own OpenAPI schema: no 5xx, every answer as documented, no way
past authentication."""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from adminpanel import clock
from adminpanel.api import services as api_services
from adminpanel.mail import services as mail
from adminpanel.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection open across WSGI calls, as Django's Client does.

    Django closes "old" connections when a request starts and finishes; in a test that would
    close the connection holding the test's transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(admin, make_subadmin, in_test_transaction) -> dict[str, str]:
    """The Admin's token (no 2FA), with a little data for the generated calls to meet."""
    domain = mail.create_domain(admin, name="example.com")
    mail.create_mailbox(admin, address="alice@example.com", password="a-long-passphrase-1")
    mail.create_alias(admin, address="info@example.com", destinations=["alice@example.com"])
    bot = make_subadmin("deploy-bot")  # the login example of the schema
    bot.set_password("a-long-passphrase-for-the-bot")
    bot.save()
    assert domain.pk
    token = api_services.issue_token(admin, now=clock.now()).token
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_conforms_to_its_schema(case, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)


SECURED = [
    pytest.param(operation.method.upper(), operation.path, id=operation.label)
    for operation in (result.ok() for result in schema.get_all_operations())
    if operation.definition.raw.get("security")
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), SECURED)
def test_no_secured_operation_answers_without_a_valid_token(method, path):
    url = re.sub(r"\{[a-z_]+\}", "1", path)
    for authorization in (None, "Bearer " + "x" * 43, "Basic YTpi", "Bearer"):
        headers = {"Authorization": authorization} if authorization else {}
        response = Client().generic(
            method, url, data=b"{}", content_type="application/json", headers=headers
        )
        assert response.status_code == 401, (method, url, authorization)
        assert response.json()["error"] in {"not_authenticated", "invalid_token"}
