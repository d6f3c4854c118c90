"""Helpers for the tests of the panel's data pages: the Admin, Sub-Admins and mail data,
built through the product's own services, and clients logged in through the real /login.
"""

import html
import re

from django.test import Client

from adminpanel.accounts import services as accounts
from adminpanel.accounts import subadmins
from adminpanel.accounts.models import Account
from adminpanel.audit.models import Event
from adminpanel.mail import services as mail

ADMIN_PASSWORD = "Admin-Quartz-Lantern-4817"
PASSWORD = "Sub-Admin-Pebble-Orbit-93"
MAILBOX_PASSWORD = "Mailbox-Cobalt-Harbor-27"
LEVEL_NAMES = {0: "No access", 1: "View", 2: "Edit", 3: "Delete"}


def text(response) -> str:
    """The page as a person reads it: HTML entities decoded."""
    return html.unescape(response.content.decode())


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


def try_log_in(username: str, password: str = PASSWORD, *, ip: str = "127.0.0.1"):
    """The login page's answer to a password step (for refusals)."""
    return Client(REMOTE_ADDR=ip).post("/login", {"username": username, "password": password})


def make_admin() -> Account:
    admin, _ = accounts.ensure_admin("admin", ADMIN_PASSWORD)
    return admin


def make_subadmin(admin: Account, username: str = "sub", **options) -> Account:
    options.setdefault("password", PASSWORD)
    account, _ = subadmins.create_subadmin(admin, username=username, **options)
    return account


def log_in(username: str, password: str = PASSWORD, *, ip: str = "127.0.0.1") -> Client:
    """A browser that logged in through the real /login (accounts without 2FA)."""
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/login", {"username": username, "password": password})
    assert response.status_code == 302 and response.url == "/", text(response)[:500]
    return client


def log_in_admin() -> Client:
    return log_in("admin", ADMIN_PASSWORD)


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
