"""Accounts, 2FA and the login flow, built through the product's own services and pages."""

import pytest
from django.test import Client

from adminpanel.accounts.models import Account
from tests.integration.keys import ORIGIN, add_key
from tests.integration.panel import (
    PASSWORD,
    TwoFactor,
    log_in,
    make_admin,
    verify,
)
from tests.softkey import SoftKey


@pytest.fixture
def make_account(db, clock):
    """Accounts for a test whose clock stands still unless the test moves it."""

    def make(username: str = "alice", *, password: str = PASSWORD, **fields) -> Account:
        return Account.objects.create_user(username, password, **fields)

    return make


@pytest.fixture
def alice(make_account) -> Account:
    return make_account("alice")


@pytest.fixture
def alice_2fa(alice, enable_2fa) -> TwoFactor:
    return enable_2fa(alice)


@pytest.fixture
def pending_client(alice_2fa) -> Client:
    """A visitor who passed the password step of a 2FA account and now sees the pop-up."""
    client = Client()
    response = log_in(client)
    assert response.status_code == 302 and response.url == "/login"
    return client


@pytest.fixture
def logged_in(alice) -> Client:
    """Alice, logged in to the Admin Panel without 2FA."""
    client = Client()
    assert log_in(client).url == "/"
    return client


@pytest.fixture
def logged_in_2fa(alice_2fa) -> Client:
    """Alice, logged in with her password and a code."""
    client = Client()
    assert log_in(client).url == "/login"
    assert verify(client, alice_2fa.next_code()).url == "/"
    alice_2fa.clock.advance(seconds=30)  # that step is spent
    return client


@pytest.fixture
def admin(db) -> Account:
    """The Admin, as `adminpanel serve` creates it on the first start."""
    return make_admin()


@pytest.fixture
def key() -> SoftKey:
    """A software security key that answers for this test server."""
    return SoftKey(ORIGIN)


@pytest.fixture
def alice_key(logged_in, key) -> SoftKey:
    """Alice with one security key (her only second factor)."""
    assert add_key(logged_in, key).status_code == 200
    return key
