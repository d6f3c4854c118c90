"""`api`: GET /api/v1/me with a bearer token against the unauthenticated GET /api/v1/health of
the same app, measured in the same run: requests/s, p50/p99 and the ratio (target ≥ 80 %); and
GET /api/v1/me with an API key (SPEC §17) of an API-only Sub-Admin, beside the token.

    .venv/bin/python -m benchmarks.api [--workers 2] [--runs 3] [--requests 3000] [--url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import time

from benchmarks import harness
from benchmarks.harness import fmt

MAKE_API_ACCOUNT = """
import json
from adminpanel.accounts.models import Account
Account.objects.create_user({name!r}, {password!r}, web_access=False, api_access=True)
print(json.dumps("ok"))
"""

MAKE_API_KEY = """
import json
from adminpanel import clock
from adminpanel.accounts import api_keys
from adminpanel.accounts.models import Account
robot = Account.objects.create_user({name!r}, {password!r}, web_access=False, api_access=True)
admin = Account.objects.get(is_owner=True)
print(json.dumps(api_keys.create_key(admin, name={name!r}, subadmin=robot.pk, now=clock.now()).key))
"""


def _call(host: str, port: int, method: str, path: str, headers: dict, body: str | None = None):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def api_token(target: harness.Target) -> str:
    """A token of a fresh API-only account, through the real login endpoint."""
    name = f"bench-api-{secrets.token_hex(3)}"
    target.django_json(MAKE_API_ACCOUNT.format(name=name, password=harness.PASSWORD))
    host, port = target.host_port
    status, body = _call(
        host,
        port,
        "POST",
        "/api/v1/auth/login",
        {"Content-Type": "application/json"},
        json.dumps({"username": name, "password": harness.PASSWORD}),
    )
    if status != 200:
        raise RuntimeError(f"API login failed: {status} {body[:200]!r}")
    return json.loads(body)["token"]


def api_key(target: harness.Target) -> str:
    """A key of a fresh API-only Sub-Admin, made by the Admin through the service."""
    name = f"bench-key-{secrets.token_hex(3)}"
    return target.django_json(MAKE_API_KEY.format(name=name, password=harness.PASSWORD))


def measure(target: harness.Target, path: str, headers: dict, n: int, concurrency: int):
    host, port = target.host_port

    def one(_) -> float:
        started = time.perf_counter()
        status, _body = _call(host, port, "GET", path, headers)
        took = time.perf_counter() - started
        if status != 200:
            raise AssertionError(f"GET {path}: {status}")
        return took

    return harness.run_concurrently(list(range(n)), concurrency, one)


def one_run(target: harness.Target, token: str, key: str, args) -> dict:
    plain = {"User-Agent": "adminpanel-benchmark", "Accept": "application/json"}
    bearer = {**plain, "Authorization": f"Bearer {token}"}
    trivial = measure(target, "/api/v1/health", plain, args.requests, 8)
    me = measure(target, "/api/v1/me", bearer, args.requests, 8)
    keyed = measure(
        target, "/api/v1/me", {**plain, "Authorization": f"Bearer {key}"}, args.requests, 8
    )
    return {
        "key_per_s": keyed.rate,
        "key_p50_ms": keyed.p50_ms,
        "key_p99_ms": keyed.p99_ms,
        "me_per_s": me.rate,
        "me_p50_ms": me.p50_ms,
        "me_p99_ms": me.p99_ms,
        "trivial_per_s": trivial.rate,
        "trivial_p50_ms": trivial.p50_ms,
        "trivial_p99_ms": trivial.p99_ms,
        "errors": me.errors + trivial.errors + keyed.errors,
    }


def report(runs: list[dict], target: harness.Target, args) -> None:
    m = harness.medians(runs)
    ratio = m["me_per_s"] / m["trivial_per_s"]
    harness.print_table(
        f"api, concurrency 8 (median of {len(runs)} runs) — {target.description}",
        ["", "per s", "p50 ms", "p99 ms"],
        [
            [
                "GET /api/v1/me (token)",
                fmt(m["me_per_s"]),
                fmt(m["me_p50_ms"], 2),
                fmt(m["me_p99_ms"], 2),
            ],
            [
                "GET /api/v1/me (API key)",
                fmt(m["key_per_s"]),
                fmt(m["key_p50_ms"], 2),
                fmt(m["key_p99_ms"], 2),
            ],
            [
                "GET /api/v1/health",
                fmt(m["trivial_per_s"]),
                fmt(m["trivial_p50_ms"], 2),
                fmt(m["trivial_p99_ms"], 2),
            ],
            [
                "ratio me/health",
                fmt(ratio, 3),
                fmt(m["me_p50_ms"] / m["trivial_p50_ms"], 2),
                fmt(m["me_p99_ms"] / m["trivial_p99_ms"], 2),
            ],
        ],
    )
    targets = {"me_rate_to_trivial>=0.8": ratio >= 0.8}
    figures = {
        "me_rate_to_trivial": round(ratio, 3),
        "key_rate_to_token": round(m["key_per_s"] / m["me_per_s"], 3),
    }
    harness.conclude("api", target, args, runs, figures, targets)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=3000, help="requests per endpoint")


def _measure(target: harness.Target, args):
    token, key = api_token(target), api_key(target)
    return lambda: one_run(target, token, key, args)


def main(argv: list[str] | None = None) -> int:
    return harness.run_benchmark(
        "api",
        __doc__,
        _arguments,
        _measure,
        lambda r: (
            f"me {fmt(r['me_per_s'])}/s, with a key {fmt(r['key_per_s'])}/s, "
            f"health {fmt(r['trivial_per_s'])}/s"
        ),
        report,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
