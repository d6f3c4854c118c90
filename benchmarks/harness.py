"""What every benchmark needs: a deployment to measure, accounts, a lean HTTP client, and
figures printed as a table and one JSON line.

A deployment is either started here (a throwaway PostgreSQL cluster with PostgreSQL's default,
durable settings, and `adminpanel serve --workers N`) or an existing one given by --url; then
the driver must run with the server's ADMINPANEL_* environment (database URL, secret key,
encryption keys), because it creates its benchmark accounts in the same database.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import signal
import statistics
import string
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyotp

from testbed.cluster import Fleet, run_django_snippet, start_instances
from testbed.postgres import ThrowawayCluster

PASSWORD = "benchmark-password-horse-7"
# The trivial endpoint: the API's liveness check (the whole middleware stack, no session, no
# database) when the panel has one, else a static file (WhiteNoise, inside the same app).
TRIVIAL_PATHS = ("/api/v1/health", "/static/adminpanel/favicon.svg")
TOKEN_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_CHARS = string.ascii_letters + string.digits


# --- the deployment ----------------------------------------------------------------------


@dataclass
class Target:
    """A running panel and a way to run Django snippets against its database."""

    url: str
    run_django: Callable[[str], str]
    fleet: Fleet | None = None
    description: str = ""

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urllib.parse.urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def django_json(self, code: str):
        return json.loads(self.run_django(code).strip().splitlines()[-1])

    def worker_pids(self) -> list[int]:
        if self.fleet is None:
            raise SystemExit("worker RSS needs a server this command started (no --url)")
        return self.fleet.instances[0].worker_pids()


def _django_with_environment(code: str) -> str:
    return run_django_snippet(code, dict(os.environ))


@contextmanager
def deployment(args: argparse.Namespace) -> Iterator[Target]:
    """The panel to measure: --url, or a throwaway PostgreSQL and `adminpanel serve`."""
    if args.url:
        target = Target(args.url.rstrip("/"), _django_with_environment)
        target.description = f"{target.url}; trivial = GET {trivial_path(target)}"
        yield target
        return
    with ThrowawayCluster(durable=True, settings=cluster_settings(args)) as cluster:
        with start_instances(1, cluster.url, workers=args.workers) as fleet:
            target = Target(fleet.urls[0], fleet.django, fleet)
            target.description = (
                f"adminpanel serve --workers {args.workers}, PostgreSQL 15 (throwaway, "
                f"synchronous_commit={'off' if args.async_commit else 'on'}); "
                f"trivial = GET {trivial_path(target)}"
            )
            yield target


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="measure this running panel instead of starting one")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the median is reported")
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="synchronous_commit=off in the started cluster: commits do not wait for the disk",
    )


def cluster_settings(args: argparse.Namespace) -> dict[str, str]:
    """PostgreSQL's own defaults (every commit waits for its WAL flush), unless --async-commit."""
    return {"synchronous_commit": "off"} if args.async_commit else {}


# --- accounts and sessions, made in the deployment's database ------------------------------

SEED = """
import json
from django.contrib.auth.hashers import make_password
from adminpanel import clock, crypto
from adminpanel.accounts.models import PERSON_KIND, Account
from adminpanel.people.models import Person
from adminpanel.twofactor.models import CodeState, RecoveryCode, TotpDevice

prefix, n, password, key = {prefix!r}, {n!r}, {password!r}, {key!r}
password_hash = make_password(password)
code_hash = make_password("0" * 16)
encrypted_key = crypto.encrypt(key)
people = Person.objects.bulk_create([Person(kind=PERSON_KIND) for _ in range(n)], batch_size=500)
made = Account.objects.bulk_create(
    [
        Account(username=f"{{prefix}}{{i}}", password=password_hash, person=p)
        for i, p in enumerate(people)
    ],
    batch_size=500,
)
now = clock.now()
TotpDevice.objects.bulk_create(
    [TotpDevice(person=p, encrypted_key=encrypted_key, created_at=now) for p in people],
    batch_size=500,
)
CodeState.objects.bulk_create([CodeState(person=p) for p in people], batch_size=500)
RecoveryCode.objects.bulk_create(
    [RecoveryCode(person=p, code_hash=code_hash) for p in people for _ in range(10)],
    batch_size=1000,
)
print(json.dumps([a.username for a in made]))
"""

PENDING = """
import json
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from adminpanel import clock
from adminpanel.login import services
from adminpanel.accounts.models import Account

keys = []
for account in Account.objects.filter(username__startswith={prefix!r}).order_by("id"):
    session = SessionStore()
    services.begin_pending_login(session, account, next_url="/", now=clock.now())
    session.save()
    keys.append(session.session_key)
print(json.dumps({{"cookie": settings.SESSION_COOKIE_NAME, "keys": keys}}))
"""


def seed_accounts(target: Target, n: int, key: str) -> list[str]:
    """n accounts with 2FA on (one shared TOTP key, each with its own code state).

    Made in bulk, not through the setup pages: the benchmark measures logins, not setups.
    """
    prefix = f"bench-{secrets.token_hex(4)}-"
    return target.django_json(SEED.format(prefix=prefix, n=n, password=PASSWORD, key=key))


def pending_sessions(target: Target, usernames: list[str]) -> list[Tab]:
    """A browser tab per account whose password step is already done (the 2FA pop-up is up).

    The sessions are made by the product's own begin_pending_login; each tab has its own
    CSRF cookie and sends it back in the form, as a browser does.
    """
    prefix = usernames[0].rsplit("-", 1)[0] + "-"
    made = target.django_json(PENDING.format(prefix=prefix))
    host, port = target.host_port
    tabs = []
    for key in made["keys"]:
        tab = Tab(host, port)
        tab.cookies[made["cookie"]] = key
        secret = "".join(secrets.choice(CSRF_CHARS) for _ in range(32))
        tab.cookies["csrftoken"] = secret
        tab.token = secret
        tabs.append(tab)
    return tabs


# --- a lean browser tab: one connection per request, as gunicorn's sync workers close them --


@dataclass
class Tab:
    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, bytes]:
        headers = {"User-Agent": "adminpanel-benchmark", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.token}
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{self.host}:{self.port}"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in cookie.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        found = TOKEN_RE.search(data)
        if found:
            self.token = found.group(1).decode()
        return response.status, dict(response.headers), data

    def get(self, path: str) -> tuple[int, dict, bytes]:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> tuple[int, dict, bytes]:
        return self.request("POST", path, form)


def expect(answer: tuple[int, dict, bytes], status: int, location: str | None = None) -> None:
    got, headers, body = answer
    if got != status or (location is not None and headers.get("Location") != location):
        raise AssertionError(f"expected {status} {location or ''}, got {got} {headers}")


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Measured:
    """Durations (seconds) of the timed part of each item, and the wall time of the batch."""

    durations: list[float]
    wall: float
    errors: int = 0

    @property
    def rate(self) -> float:
        return len(self.durations) / self.wall if self.wall else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.durations)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]

    @property
    def p50_ms(self) -> float:
        return self.percentile(50) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile(99) * 1000


def run_concurrently(items: list, concurrency: int, work: Callable[[object], float]) -> Measured:
    """work(item) for every item on `concurrency` threads; work returns the timed duration."""
    durations: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = iter(items)

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            try:
                took = work(item)
            except Exception as failure:  # noqa: BLE001 - counted and shown, not fatal
                with lock:
                    errors += 1
                    if errors <= 3:
                        print(f"  error: {failure}", file=sys.stderr)
                continue
            with lock:
                durations.append(took)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    return Measured(durations, time.perf_counter() - started, errors)


def trivial_path(target: Target) -> str:
    host, port = target.host_port
    for path in TRIVIAL_PATHS:
        if Tab(host, port).get(path)[0] == 200:
            return path
    raise RuntimeError("no trivial endpoint answers 200")


def measure_trivial(target: Target, n: int, concurrency: int) -> Measured:
    """The trivial endpoint: the same app, workers and driver, without session or database."""
    host, port = target.host_port
    path = trivial_path(target)

    def one(_):
        tab = Tab(host, port)
        started = time.perf_counter()
        expect(tab.get(path), 200)
        return time.perf_counter() - started

    return run_concurrently(list(range(n)), concurrency, one)


def worker_cpu_seconds(target: Target) -> float:
    """User + system CPU time so far of the server's workers (from /proc), summed."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in target.worker_pids():
        # the fields after the command name (which may hold spaces): utime, stime are 14, 15
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def cpu_per_request_ms(target: Target, items: list, work: Callable[[object], object]) -> float:
    """The workers' CPU per request (ms) for work(item) done one after another: the server's
    own cost, whatever the driver and the database cost beside it on the same cores."""
    pids = target.worker_pids()
    before = worker_cpu_seconds(target)
    for item in items:
        work(item)
    if target.worker_pids() != pids:
        raise RuntimeError("a worker was replaced during the run")
    return (worker_cpu_seconds(target) - before) * 1000 / len(items)


def trivial_cpu_ms(target: Target, n: int) -> float:
    """The workers' CPU per request of the trivial endpoint, one request after another."""
    host, port = target.host_port
    path = trivial_path(target)
    return cpu_per_request_ms(
        target, list(range(n)), lambda _: expect(Tab(host, port).get(path), 200)
    )


def totp(key: str) -> pyotp.TOTP:
    return pyotp.TOTP(key)


# --- reporting ---------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def environment_line() -> str:
    load = os.getloadavg()[0]
    return (
        f"{platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
        f"load average {load:.2f} at start"
    )


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        print(
            "  "
            + "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


def emit_json(document: dict) -> None:
    print(json.dumps(document, sort_keys=True))


def quiet_machine_warning() -> None:
    load = os.getloadavg()[0]
    if load > 0.5:
        print(
            f"note: load average {load:.2f}: other work on this machine skews the figures",
            file=sys.stderr,
        )


# --- the shape every benchmark shares ------------------------------------------------------


def repeat(args: argparse.Namespace, one_run: Callable[[], dict], progress: Callable) -> list:
    """args.runs runs of one_run(), each announced with progress(run) as it ends."""
    runs = []
    for n in range(args.runs):
        runs.append(one_run())
        print(f"run {n + 1}: {progress(runs[-1])}", flush=True)
    return runs


def medians(runs: list[dict]) -> dict[str, float]:
    return {name: median([r[name] for r in runs]) for name in runs[0]}


def conclude(
    name: str,
    target: Target,
    args: argparse.Namespace,
    runs: list[dict],
    ratios: dict,
    targets: dict[str, bool],
) -> None:
    """Say which targets were met and print the one JSON line of the benchmark."""
    print("  targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    emit_json(
        {
            "benchmark": name,
            "target": target.description,
            "workers": args.workers,
            "runs": len(runs),
            "median": {k: round(v, 3) for k, v in medians(runs).items()},
            "ratios": ratios,
            "targets_met": targets,
            "each_run": runs,
        }
    )


def stop_on_sigterm() -> None:
    """A benchmark ended with SIGTERM (kill, timeout) stops the servers and the PostgreSQL
    cluster it started, as Ctrl-C does: the signal becomes SystemExit, which unwinds them."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def run_benchmark(
    name: str,
    doc: str,
    add_arguments: Callable,
    measure: Callable,
    progress: Callable,
    report: Callable,
    argv: list[str] | None,
) -> int:
    """Parse the common options, start (or reach) the panel, run, report.

    measure(target, args) returns a zero-argument function doing one run; report(runs, target,
    args) prints the table and calls conclude().
    """
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}", description=doc)
    common_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    stop_on_sigterm()
    print(environment_line())
    quiet_machine_warning()
    with deployment(args) as target:
        runs = repeat(args, measure(target, args), progress)
        report(runs, target, args)
    return 0
