"""The helpers of the integration tests: accounts, 2FA and mail data built through the
product's own services, and the one way to log in (`log_in`, the real /login form), on which
`signed_in` and `log_in_admin` build. The fixtures are in conftest.py.
"""

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.test import Client

from adminpanel.accounts import services as accounts
from adminpanel.accounts.models import Account
from adminpanel.accounts.signals import email_confirmation_requested
from adminpanel.audit.models import Event
from adminpanel.mail import services as mail
from adminpanel.subadmins import services as subadmins
from adminpanel.twofactor.models import CodeState
from tests.factors import TwoFactor, wrong_code_for  # noqa: F401 (for the tests)

ADMIN_PASSWORD = "Admin-Quartz-Lantern-4817"
SUBADMIN_PASSWORD = "Sub-Admin-Pebble-Orbit-93"
MAILBOX_PASSWORD = "Mailbox-Cobalt-Harbor-27"
LEVEL_NAMES = {0: "No access", 1: "View", 2: "Edit", 3: "Delete"}
PASSWORD = "correct-horse-battery-staple"
RECOVERY_CODE = re.compile(
    r"<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code></li>"
)
MANUAL_KEY = re.compile(r'id="manual-key">([A-Z2-7 ]+)<')
SETUP_ID = re.compile(r'name="setup" value="(\d+)"')
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def text(response) -> str:
    """The page as a person reads it: HTML entities decoded."""
    return html.unescape(response.content.decode())


def session_id(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie is not None and cookie.value else None


def failures(account: Account) -> int:
    state = CodeState.objects.filter(person=account.person).first()
    return state.failures if state is not None else 0


def csrf_token(client: Client, url: str) -> str:
    match = CSRF_TOKEN.search(client.get(url, follow=True).content.decode())
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def field_error(response, field: str) -> str:
    """The message shown by a field, checked to be the one its control is described by."""
    page = text(response)
    control = re.search(rf'<(?:input|select|textarea)\b[^>]*\bname="{field}"[^>]*>', page)
    assert control, f"no control named {field}"
    assert 'aria-invalid="true"' in control.group(0), control.group(0)
    described = re.search(r'aria-describedby="([^"]+)"', control.group(0))
    assert described and f"id_{field}_error" in described.group(1).split(), control.group(0)
    message = re.search(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', page, re.S)
    assert message, f"no message by {field}"
    return message.group(1).strip()


def make_admin() -> Account:
    admin, _ = accounts.ensure_admin("admin", ADMIN_PASSWORD)
    return admin


def make_subadmin(admin: Account, username: str = "sub", **options) -> Account:
    options.setdefault("password", SUBADMIN_PASSWORD)
    account, _ = subadmins.create_subadmin(admin, username=username, **options)
    return account


def log_in(client: Client, username: str = "alice", password: str = PASSWORD, **extra):
    """The password step of the web login."""
    return client.post("/login", {"username": username, "password": password}, **extra)


def csrf_log_in(client: Client, username: str = "alice", password: str = PASSWORD):
    """The password step as a browser sends it: with the form's CSRF token."""
    token = csrf_token(client, "/login")
    data = {"username": username, "password": password, "csrfmiddlewaretoken": token}
    return client.post("/login", data)


def verify(client: Client, challenge: str, **extra):
    """The Verify button of the 2FA pop-up."""
    return client.post("/login/verify", {"challenge": challenge}, **extra)


def signed_in(username: str, password: str = SUBADMIN_PASSWORD, *, ip: str = "127.0.0.1") -> Client:
    """A browser that logged in through the real /login (accounts without 2FA)."""
    client = Client(REMOTE_ADDR=ip)
    response = log_in(client, username, password)
    assert response.status_code == 302 and response.url == "/", text(response)[:500]
    return client


def log_in_admin() -> Client:
    return signed_in("admin", ADMIN_PASSWORD)


def is_logged_in(client: Client, **extra) -> bool:
    return client.get("/", **extra).status_code == 200


def events(name: str) -> list[Event]:
    return list(Event.objects.filter(event=name).order_by("id"))


def seed_mail(admin: Account) -> dict:
    """example.com with the mailbox info@ and the alias sales@, plus an empty spare.example."""
    domain = mail.create_domain(admin, name="example.com")
    spare = mail.create_domain(admin, name="spare.example")
    mailbox = mail.create_mailbox(admin, address="info@example.com", password=MAILBOX_PASSWORD)
    alias = mail.create_alias(admin, address="sales@example.com", destinations=["info@example.com"])
    return {"domain": domain, "spare": spare, "mailbox": mailbox, "alias": alias}


@contextmanager
def mailed_links() -> Iterator[list[str]]:
    """The links that confirm a new notice e-mail, as they are mailed (the path part)."""
    links: list[str] = []

    def keep(sender, url: str, **kwargs) -> None:
        links.append("/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url)

    email_confirmation_requested.connect(keep, dispatch_uid="mailed_links")
    try:
        yield links
    finally:
        email_confirmation_requested.disconnect(dispatch_uid="mailed_links")
