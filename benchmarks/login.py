"""`login`: full web logins as a browser does them, at concurrency 1 and 8.

Each flow: GET /login, POST /login (password, Argon2id), GET /login (the 2FA pop-up),
POST /login/verify (the code), GET / (home). Reports flows/s, the p50/p99 of a whole flow
and of the code step alone, and the same figures for a trivial endpoint of the same app,
measured in the same run.

    .venv/bin/python -m benchmarks.login [--workers 2] [--runs 3] [--flows 300] [--url URL]
"""

from __future__ import annotations

import argparse
import time

import pyotp

from benchmarks import harness
from benchmarks.harness import PASSWORD, Tab, expect, fmt


def login_flow(target: harness.Target, totp: pyotp.TOTP, code_times: list[float]):
    host, port = target.host_port

    def flow(username: str) -> float:
        tab = Tab(host, port)
        started = time.perf_counter()
        expect(tab.get("/login"), 200)
        expect(tab.post("/login", {"username": username, "password": PASSWORD}), 302, "/login")
        expect(tab.get("/login"), 200)
        code_started = time.perf_counter()
        answer = tab.post("/login/verify", {"challenge": totp.now()})
        code_took = time.perf_counter() - code_started
        expect(answer, 302, "/")
        expect(tab.get("/"), 200)
        took = time.perf_counter() - started
        code_times.append(code_took)
        return took

    return flow


def measure_logins(target: harness.Target, n: int, concurrency: int):
    key = pyotp.random_base32(32)
    usernames = harness.seed_accounts(target, n, key)
    code_times: list[float] = []
    flows = harness.run_concurrently(
        usernames, concurrency, login_flow(target, pyotp.TOTP(key), code_times)
    )
    return flows, harness.Measured(code_times, flows.wall)


def one_run(target: harness.Target, args) -> dict:
    trivial_1 = harness.measure_trivial(target, 300, 1)
    trivial_8 = harness.measure_trivial(target, 1500, 8)
    figures = {}
    for c, n, trivial in ((1, args.flows_c1, trivial_1), (8, args.flows, trivial_8)):
        flows, code = measure_logins(target, n, c)
        figures.update(
            {
                f"c{c}_flows_per_s": flows.rate,
                f"c{c}_flow_p50_ms": flows.p50_ms,
                f"c{c}_flow_p99_ms": flows.p99_ms,
                f"c{c}_code_p50_ms": code.p50_ms,
                f"c{c}_code_p99_ms": code.p99_ms,
                f"c{c}_errors": flows.errors,
                f"trivial_c{c}_per_s": trivial.rate,
                f"trivial_c{c}_p50_ms": trivial.p50_ms,
                f"trivial_c{c}_p99_ms": trivial.p99_ms,
            }
        )
    return figures


def report(runs: list[dict], target: harness.Target, args) -> None:
    m = harness.medians(runs)
    rows = []
    for c in (1, 8):
        trivial_rate = m[f"trivial_c{c}_per_s"]
        trivial_p50, trivial_p99 = m[f"trivial_c{c}_p50_ms"], m[f"trivial_c{c}_p99_ms"]
        rows += [
            [
                f"full login, c{c}",
                fmt(m[f"c{c}_flows_per_s"]),
                fmt(m[f"c{c}_flow_p50_ms"], 2),
                fmt(m[f"c{c}_flow_p99_ms"], 2),
            ],
            [
                f"  its code step, c{c}",
                "",
                fmt(m[f"c{c}_code_p50_ms"], 2),
                fmt(m[f"c{c}_code_p99_ms"], 2),
            ],
            [f"trivial, c{c}", fmt(trivial_rate), fmt(trivial_p50, 2), fmt(trivial_p99, 2)],
            [
                f"ratio login/trivial, c{c}",
                fmt(m[f"c{c}_flows_per_s"] / trivial_rate, 3),
                fmt(m[f"c{c}_flow_p50_ms"] / trivial_p50, 2),
                fmt(m[f"c{c}_flow_p99_ms"] / trivial_p99, 2),
            ],
            [
                f"ratio code step/trivial, c{c}",
                "",
                fmt(m[f"c{c}_code_p50_ms"] / trivial_p50, 2),
                fmt(m[f"c{c}_code_p99_ms"] / trivial_p99, 2),
            ],
        ]
    harness.print_table(
        f"full web login (median of {len(runs)} runs) — {target.description}",
        ["", "flows/s", "p50 ms", "p99 ms"],
        rows,
    )
    targets = {"c8_flows_per_s>=15": m["c8_flows_per_s"] >= 15}
    ratios = {
        "c8_flows_to_trivial_rate": round(m["c8_flows_per_s"] / m["trivial_c8_per_s"], 4),
        "c1_code_p50_to_trivial": round(m["c1_code_p50_ms"] / m["trivial_c1_p50_ms"], 3),
    }
    harness.conclude("login", target, args, runs, ratios, targets)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flows", type=int, default=300, help="logins at concurrency 8")
    parser.add_argument("--flows-c1", type=int, default=100, help="logins at concurrency 1")


def _progress(r: dict) -> str:
    return (
        f"c1 {fmt(r['c1_flows_per_s'])} flows/s, c8 {fmt(r['c8_flows_per_s'])} flows/s, "
        f"code step p50 c1 {fmt(r['c1_code_p50_ms'], 2)} ms"
    )


def main(argv: list[str] | None = None) -> int:
    return harness.run_benchmark(
        "login",
        __doc__,
        _arguments,
        lambda target, args: lambda: one_run(target, args),
        _progress,
        report,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
