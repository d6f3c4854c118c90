"""Several real `adminpanel serve` processes on one PostgreSQL database, and a browser-like client.

Used by the cluster tests and by the benchmarks:

    fleet = start_instances(2, database_url)      # two instances, one database
    fleet.urls                                     # ["http://127.0.0.1:PORT", ...]
    fleet.django("print(...)")                     # a Django snippet with the same environment
    fleet.stop()

What the instances share is exactly what README "Scaling out" says must be shared: the
database URL, ADMINPANEL_SECRET_KEY and ADMINPANEL_ENCRYPTION_KEYS. Each has its own data dir,
so nothing on local disk is shared.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from testbed.postgres import free_port

REPO = Path(__file__).resolve().parents[1]
ADMIN_PASSWORD = "cluster-admin-password-1"
TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def adminpanel_command() -> list[str]:
    """The installed `adminpanel` command next to this Python, else the module."""
    script = Path(sys.executable).with_name("adminpanel")
    return [str(script)] if script.exists() else [sys.executable, "-m", "adminpanel.cli"]


def shared_environment(database_url: str, **extra: str) -> dict[str, str]:
    """The environment every instance of one deployment shares."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ADMINPANEL_") and key != "DJANGO_SETTINGS_MODULE"
    }
    # Instances run in their data dirs: a relative PYTHONPATH (PYTHONPATH=src in a worktree)
    # would silently serve the venv's installed tree instead of the one under test.
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(entry).resolve()) for entry in env["PYTHONPATH"].split(os.pathsep) if entry
        )
    env.update(
        ADMINPANEL_DATABASE_URL=database_url,
        ADMINPANEL_SECRET_KEY=secrets.token_urlsafe(64),
        ADMINPANEL_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ADMINPANEL_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PYTHONUNBUFFERED="1",
    )
    # Benchmarks may pass cost parameters (e.g. ADMINPANEL_ARGON2_MEMORY_KIB) through.
    for key, value in os.environ.items():
        if key.startswith("ADMINPANEL_ARGON2_"):
            env[key] = value
    env.update(extra)
    return env


def run_django_snippet(code: str, env: dict[str, str], timeout: float = 300) -> str:
    """Run code after django.setup() in a fresh interpreter with env; return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", "import django\ndjango.setup()\n" + code],
        env={**env, "DJANGO_SETTINGS_MODULE": "adminpanel.settings"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Django snippet failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Instance:
    """One `adminpanel serve` (a gunicorn master and its workers) in its own process group."""

    env: dict[str, str]
    port: int
    workers: int
    data_dir: Path
    process: subprocess.Popen | None = None
    starts: int = 0
    serve_options: list[str] = field(default_factory=list)  # e.g. --certfile, --keyfile

    @property
    def url(self) -> str:
        scheme = "https" if "--certfile" in self.serve_options else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"serve-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        env = {**self.env, "ADMINPANEL_DATA_DIR": str(self.data_dir)}
        argv = [*adminpanel_command(), "serve", "--port", str(self.port)]
        argv += ["--workers", str(self.workers), *self.serve_options]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv,
                env=env,
                cwd=self.data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a kill takes the workers too
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.url} exited:\n{self.log()}")
            try:
                # A self-signed certificate of a test: the address is loopback.
                answer = requests.get(f"{self.url}/login", timeout=2, verify=False)  # noqa: S501
                if answer.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.url} not ready after {timeout}s:\n{self.log()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send sig to the whole instance (master and workers) and reap it."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # Workers of a killed master may linger a moment; wait until the group is gone.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.process = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: children of the master (serve exec()s into gunicorn)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()]

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""


@dataclass
class Fleet:
    """Several instances on one database: the deployment that README "Scaling out" describes."""

    env: dict[str, str]
    instances: list[Instance] = field(default_factory=list)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="adminpanel-fleet-")))

    @property
    def urls(self) -> list[str]:
        return [i.url for i in self.instances]

    def add(self, workers: int = 1) -> Instance:
        data_dir = self.root / f"instance-{len(self.instances)}"
        data_dir.mkdir()
        instance = Instance(self.env, free_port(), workers, data_dir)
        self.instances.append(instance)
        return instance

    def django(self, code: str, timeout: float = 300) -> str:
        """Run a Python snippet after django.setup() with the deployment's environment."""
        env = {**self.env, "ADMINPANEL_DATA_DIR": str(self.root / "snippets")}
        return run_django_snippet(code, env, timeout)

    def django_json(self, code: str, timeout: float = 300):
        """Run a snippet that prints one JSON document last; return it parsed."""
        return json.loads(self.django(code, timeout).strip().splitlines()[-1])

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_instances(
    n: int, database_url: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Fleet:
    """Start n `adminpanel serve` processes at once on one database; wait until all answer.

    They start simultaneously on purpose: that is how a deployment comes up, and `serve`
    must cope (migrations and the first Admin are created once).
    """
    fleet = Fleet(shared_environment(database_url, **(env or {})))
    try:
        for _ in range(n):
            fleet.add(workers).start()
        for instance in fleet.instances:
            instance.wait_ready()
    except BaseException:
        fleet.stop()
        raise
    return fleet


# --- a browser, as far as the server can tell -------------------------------------------


class Browser:
    """A requests.Session that behaves like a browser tab on one instance.

    It keeps cookies, sends the form's csrfmiddlewaretoken and an Origin header, and does not
    follow redirects, so tests see each 302.
    """

    def __init__(self, base_url: str, session: requests.Session | None = None):
        self.base_url = base_url
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = "adminpanel-cluster-test"
        self.token: str | None = None

    def on(self, base_url: str) -> Browser:
        """The same cookies, talking to another instance."""
        return Browser(base_url, self.http)

    def get(self, path: str, **kwargs) -> requests.Response:
        r = self.http.get(self.base_url + path, allow_redirects=False, timeout=60, **kwargs)
        found = TOKEN_RE.search(r.text)
        if found:
            self.token = found.group(1)
        return r

    def post(self, path: str, data: dict | None = None, **kwargs) -> requests.Response:
        """Submit a form, with the CSRF token of the last page this tab loaded."""
        payload = dict(data or {})
        if self.token is None:
            self.get("/login")
        payload["csrfmiddlewaretoken"] = self.token
        r = self.http.post(
            self.base_url + path,
            data=payload,
            headers={"Origin": self.base_url, "Referer": self.base_url + path},
            allow_redirects=False,
            timeout=60,
            **kwargs,
        )
        found = TOKEN_RE.search(r.text)
        if found:
            self.token = found.group(1)
        return r

    @property
    def session_id(self) -> str | None:
        cookies = self.http.cookies  # over HTTPS the panel names it __Host-adminpanel_session
        return cookies.get("adminpanel_session") or cookies.get("__Host-adminpanel_session")

    def password_step(self, username: str, password: str) -> requests.Response:
        """Open /login, send username and password; on a 2FA account the code step is next."""
        self.get("/login")
        r = self.post("/login", {"username": username, "password": password})
        if r.status_code == 302:
            self.get(r.headers["Location"])  # the page with the dialog: a fresh token
        return r

    def code_step(self, challenge: str) -> requests.Response:
        return self.post("/login/verify", {"challenge": challenge})

    def logged_in(self) -> bool:
        return self.get("/").status_code == 200


# --- accounts, made through the services, in a process with the deployment's environment --

MAKE_ACCOUNTS = """
import json, sys
import pyotp
from adminpanel import clock
from adminpanel.accounts.models import Account
from adminpanel.twofactor import services

out = []
for name in {names!r}:
    account = Account.objects.create_user(name, {password!r})
    entry = {{"username": name, "password": {password!r}}}
    if {two_factor!r}:
        now = clock.now()
        setup = services.start_setup(account, now=now)
        key = services.setup_key(setup)
        codes = services.confirm_setup(account, setup.pk, pyotp.TOTP(key).at(now), now=now)
        entry.update(key=key, recovery_codes=codes)
    out.append(entry)
print(json.dumps(out))
"""


def make_accounts(
    fleet: Fleet, names: list[str], *, password: str, two_factor: bool = True
) -> list[dict]:
    """Create accounts (with 2FA enabled through start_setup/confirm_setup when asked).

    Each entry has username, password and, with 2FA, key and recovery_codes. Confirming the
    setup spends the current step, so the next code to log in with is the next step's.
    """
    # Two processes at once: the hashing (Argon2id for each password and recovery code) is
    # most of the work, and this machine has two cores.
    chunks = [names[i::2] for i in range(2)] if len(names) >= 4 else [names]
    with ThreadPoolExecutor(len(chunks)) as pool:
        made = pool.map(
            lambda chunk: fleet.django_json(
                MAKE_ACCOUNTS.format(names=chunk, password=password, two_factor=two_factor)
            ),
            chunks,
        )
    by_name = {entry["username"]: entry for part in made for entry in part}
    return [by_name[name] for name in names]
