"""One private Postfix + Dovecot (the code of `adminpanel mailserver-run`) for the whole test
session, reading the test database: SQLite in the first pass, PostgreSQL in the second.

The panel's writes must be committed before a mail server can see them, so the mail tests use
`transaction=True`. Each test works on a domain of its own: maildirs outlive a test's rows.
"""

from itertools import count

import pytest

from adminpanel.accounts.models import Account
from testbed.postgres import free_port
from tests.api.client import Api
from tests.mailserver.accounts import ADMIN_PASSWORD, POSTMASTER
from tests.mailserver.servers import private_mail_server
from tests.smtp import SmtpServer

_domains = count(1)


@pytest.fixture(scope="session")
def outside():
    """The rest of the internet: a test SMTP server that the mail server relays every message
    for another domain to (sent mail, forwarding, automatic replies)."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def mailserver(django_db_setup, django_db_blocker, outside):
    with private_mail_server(
        django_db_blocker,
        "adminpanel-mailserver-test-",
        relayhost=f"127.0.0.1:{outside.port}",
        postmaster=POSTMASTER,
        submissions_port=free_port(),
    ) as server:
        yield server


@pytest.fixture
def admin_api(transactional_db) -> Api:
    """The panel's API, logged in as the Admin; every call is committed at once."""
    Account.objects.create_user("admin", ADMIN_PASSWORD, is_owner=True, api_access=True)
    api = Api()
    assert api.login("admin", ADMIN_PASSWORD).status == 200
    return api


@pytest.fixture
def domain(admin_api) -> str:
    """A fresh domain of the panel (its A-label)."""
    name = f"d{next(_domains)}.example"
    assert admin_api.post("/domains", {"name": name}).status == 201
    return name
