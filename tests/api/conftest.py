"""The JSON API's tests: accounts built through the product's services, calls through HTTP."""

import pytest

from adminpanel.accounts.models import Account
from adminpanel.subadmins import services as subadmins
from tests.api.client import PASSWORD, Api


@pytest.fixture
def admin(db) -> Account:
    return Account.objects.create_user("admin", PASSWORD, is_owner=True, api_access=True)


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def admin_api(admin) -> Api:
    """An API client logged in as the Admin (no 2FA)."""
    client = Api()
    assert client.login("admin").status == 200
    return client


@pytest.fixture
def make_subadmin(admin):
    """A Sub-Admin built by the Admin through the service, API-only by default."""

    def make(
        username: str = "robot",
        *,
        levels: dict | None = None,
        allowed_ips: list[str] | None = None,
        web_access: bool = False,
        api_access: bool = True,
        active: bool = True,
    ) -> Account:
        account, _ = subadmins.create_subadmin(
            admin,
            username=username,
            password=PASSWORD,
            active=active,
            web_access=web_access,
            api_access=api_access,
            levels=levels or {},
            allowed_ips=allowed_ips or [],
        )
        return account

    return make
