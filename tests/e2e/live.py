"""The browser tests' live panel, its Admin, the screen sizes and the log-in step."""

import json
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page

from adminpanel.sections import KEYS

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "e2e-Quartz-Lantern-4817-Harbor"


@dataclass
class E2EAccount:
    username: str
    password: str
    key: str | None = None
    recovery_codes: list[str] = field(default_factory=list)


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def create_account(
        self, username: str, *, two_factor: bool = False, level: int = 0
    ) -> E2EAccount:
        """A Sub-Admin with Admin Panel access, `level` (0-3) in every section; with 2FA on
        when asked (its key and recovery codes are returned)."""
        password = f"Pebble-Orbit-{secrets.token_hex(6)}"
        levels = dict.fromkeys(KEYS, level)
        spec = {"username": username, "password": password, "two_factor": two_factor}
        spec["levels"] = levels
        result = subprocess.run(
            [*_adminpanel_command(), "manage", "shell", "-c", _MAKE_ACCOUNT],
            env={**self.env, "E2E_ACCOUNT": json.dumps(spec)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        lines = [x for x in result.stdout.splitlines() if x.startswith("E2E-ACCOUNT ")]
        assert result.returncode == 0 and lines, result.stdout + result.stderr
        made = json.loads(lines[-1].removeprefix("E2E-ACCOUNT "))
        return E2EAccount(username, password, made["key"], made["recovery_codes"])


def log_in(page: Page, username: str, password: str) -> None:
    """The password step, as a person does it on the login page."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _adminpanel_command() -> list[str]:
    script = Path(sys.executable).with_name("adminpanel")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "adminpanel.cli"]


NewPage = Callable[..., Page]


Shot = Callable[[Page, str], None]
_MAKE_ACCOUNT = r"""
import json, os
from datetime import timedelta

import pyotp

from adminpanel import clock
from adminpanel.accounts.models import Account
from adminpanel.subadmins.services import create_subadmin
from adminpanel.twofactor import services

spec = json.loads(os.environ["E2E_ACCOUNT"])
admin = Account.objects.get(is_owner=True)
account, _ = create_subadmin(
    admin, username=spec["username"], password=spec["password"], levels=spec["levels"]
)
out = {"key": None, "recovery_codes": []}
if spec["two_factor"]:
    now = clock.now()
    setup = services.start_setup(account, now=now)
    key = services.setup_key(setup)
    # Confirmed with the previous step's code (still inside the +-1 window), so the code
    # the app shows right now has not been used yet and the test need not wait 30 s.
    code = pyotp.TOTP(key).at(now - timedelta(seconds=30))
    out = {"key": key, "recovery_codes": services.confirm_setup(account, setup.pk, code, now=now)}
print("E2E-ACCOUNT " + json.dumps(out))
"""
