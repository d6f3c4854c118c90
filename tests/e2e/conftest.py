"""A live `adminpanel serve` and a real Chromium, for the browser tests (SPEC §3, §4).

The server runs as its own process group with its OWN data dir (tests/conftest.py points
ADMINPANEL_DATA_DIR at the in-process Django's throwaway dir; the server never shares it).
Screenshots of every step land in tests/e2e/screenshots/<test>-<nn>-<step>.png.
"""

import itertools
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from testbed.postgres import free_port
from tests.e2e.live import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    LAPTOP,
    PHONE,
    LiveServer,
    NewPage,
    Shot,
    _adminpanel_command,
)

E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR / "screenshots"

SERVER_START_SECONDS = 60

# Runs inside `adminpanel manage shell` against the live server's database: state is built
# through the product's services, as every fixture should.


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """End the server's whole process group (gunicorn master and workers)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("e2e-server-data")
    env = {
        **os.environ,
        "ADMINPANEL_DATA_DIR": str(data_dir),
        "ADMINPANEL_ADMIN_USERNAME": ADMIN_USERNAME,
        "ADMINPANEL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ADMINPANEL_TOTP_ISSUER": "Admin Panel",
        "ADMINPANEL_MAIL_HOST": "mail.example.net",  # what the DNS records point at
        "PYTHONUNBUFFERED": "1",
    }
    # Its own SQLite database in its own data dir, whatever the caller's environment says.
    for name in ("ADMINPANEL_DATABASE_URL", "ADMINPANEL_SECRET_KEY", "ADMINPANEL_ENCRYPTION_KEYS"):
        env.pop(name, None)
    port = free_port()
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*_adminpanel_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole at the end
        )
    live = LiveServer(f"http://127.0.0.1:{port}", env, process, log_path)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _answers(f"{live.url}/login"):
            if process.poll() is not None:
                pytest.fail(f"adminpanel serve exited with {process.returncode}:\n{live.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"adminpanel serve did not answer /login in time:\n{live.log()}")
            time.sleep(0.2)
        yield live
    finally:
        _stop(process)


@pytest.fixture(scope="session", autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=5_000)


@pytest.fixture
def new_page(browser: Browser, server: LiveServer) -> Iterator[NewPage]:
    """Pages in fresh contexts (own cookies): new_page(phone=False, javascript=True)."""
    contexts: list[BrowserContext] = []

    def make(*, phone: bool = False, javascript: bool = True) -> Page:
        size = (
            {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
            if phone
            else {"viewport": LAPTOP}
        )
        context = browser.new_context(
            base_url=server.url,
            java_script_enabled=javascript,
            accept_downloads=True,
            locale="en-US",
            timezone_id="UTC",
            **size,
        )
        context.set_default_timeout(10_000)
        if javascript:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def localhost(browser: Browser, server: LiveServer) -> Iterator[NewPage]:
    """new(phone=False): a page in a fresh context at http://localhost:PORT (WebAuthn needs a
    host name, never an IP address)."""
    url = server.url.replace("127.0.0.1", "localhost")
    contexts = []

    def new(*, phone: bool = False) -> Page:
        size = (
            {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
            if phone
            else {"viewport": LAPTOP}
        )
        context = browser.new_context(base_url=url, locale="en-US", timezone_id="UTC", **size)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def laptop(new_page: NewPage) -> Page:
    return new_page()


@pytest.fixture
def phone(new_page: NewPage) -> Page:
    return new_page(phone=True)


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """shot(page, "step"): a full-page screenshot, numbered in the order the test takes them."""
    SCREENSHOTS.mkdir(exist_ok=True)
    name = request.node.name
    for stale in SCREENSHOTS.glob(f"{name}-*.png"):
        stale.unlink()
    counter = itertools.count(1)

    def take(page: Page, step: str) -> None:
        page.screenshot(path=SCREENSHOTS / f"{name}-{next(counter):02d}-{step}.png", full_page=True)

    return take
