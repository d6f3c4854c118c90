"""Accounts, 2FA and the login flow, built through the product's own services and pages."""

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest
from django.conf import settings
from django.test import Client

from adminpanel.accounts.models import Account
from adminpanel.twofactor import services as twofactor
from adminpanel.twofactor.models import CodeState

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


def is_logged_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def failures(account: Account) -> int:
    state = CodeState.objects.filter(account=account).first()
    return state.failures if state is not None else 0


def csrf_token(client: Client, url: str) -> str:
    match = CSRF_TOKEN.search(client.get(url, follow=True).content.decode())
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def wrong_code_for(key: str, when) -> str:
    """A well-formed code that matches no step within 10 steps of `when` (not even by chance)."""
    near = {pyotp.TOTP(key).at(when + timedelta(seconds=30 * steps)) for steps in range(-10, 11)}
    return next(code for code in ("000000", "111111", "222222") if code not in near)


@dataclass
class TwoFactor:
    """An account with 2FA enabled: its key, its recovery codes and the test's clock."""

    account: Account
    key: str
    recovery_codes: list[str]
    clock: object

    def code(self, steps: int = 0) -> str:
        """The code the authenticator shows now, or `steps` steps away."""
        return pyotp.TOTP(self.key).at(self.clock() + timedelta(seconds=30 * steps))

    def wrong_code(self) -> str:
        return wrong_code_for(self.key, self.clock())

    def next_code(self) -> str:
        """Wait for the next 30-second step and read the new code."""
        self.clock.advance(seconds=30)
        return self.code()


@pytest.fixture
def make_account(db, clock):
    """Accounts for a test whose clock stands still unless the test moves it."""

    def make(username: str = "alice", *, password: str = PASSWORD, **fields) -> Account:
        return Account.objects.create_user(username, password, **fields)

    return make


@pytest.fixture
def enable_2fa(clock):
    """Enable 2FA through the setup service; the step used to confirm is then behind us."""

    def enable(account: Account) -> TwoFactor:
        setup = twofactor.start_setup(account, now=clock())
        key = twofactor.setup_key(setup)
        codes = twofactor.confirm_setup(account, setup.pk, pyotp.TOTP(key).at(clock()), now=clock())
        clock.advance(seconds=30)
        return TwoFactor(account, key, codes, clock)

    return enable


@pytest.fixture
def alice(make_account) -> Account:
    return make_account("alice")


@pytest.fixture
def alice_2fa(alice, enable_2fa) -> TwoFactor:
    return enable_2fa(alice)


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
