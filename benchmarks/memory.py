"""`memory`: resident memory (RSS) of each gunicorn worker after 1,000 full web logins,
next to the same workers after 1,000 requests to a trivial endpoint (measured first, in the
same run). Each run starts a fresh server; the median of the runs is reported.

    .venv/bin/python -m benchmarks.memory [--workers 2] [--runs 3] [--logins 1000]

It always starts its own server (it reads the workers' /proc/PID/status).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pyotp

from benchmarks import harness
from benchmarks.harness import fmt, median
from benchmarks.login import login_flow
from testbed.cluster import start_instances
from testbed.postgres import ThrowawayCluster

LIMIT_MB = 100


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def one_run(cluster_url: str, args) -> dict:
    with start_instances(1, cluster_url, workers=args.workers) as fleet:
        target = harness.Target(fleet.urls[0], fleet.django, fleet)
        trivial_path = harness.trivial_path(target)
        pids = target.worker_pids()
        started = {pid: rss_mb(pid) for pid in pids}
        harness.measure_trivial(target, args.logins, 8)
        after_trivial = {pid: rss_mb(pid) for pid in pids}
        key = pyotp.random_base32(32)
        usernames = harness.seed_accounts(target, args.logins, key)
        flows = harness.run_concurrently(usernames, 8, login_flow(target, pyotp.TOTP(key), []))
        if target.worker_pids() != pids:
            raise RuntimeError("a worker was replaced during the run")
        after_logins = {pid: rss_mb(pid) for pid in pids}
    workers = sorted(pids)
    return {
        "trivial_path": trivial_path,
        "logins": len(flows.durations),
        "errors": flows.errors,
        "started_mb": [started[p] for p in workers],
        "after_trivial_mb": [after_trivial[p] for p in workers],
        "after_logins_mb": [after_logins[p] for p in workers],
        "max_after_logins_mb": max(after_logins.values()),
        "max_after_trivial_mb": max(after_trivial.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the median is reported")
    parser.add_argument("--logins", type=int, default=1000, help="full logins per run")
    parser.add_argument(
        "--async-commit", action="store_true", help="synchronous_commit=off in the cluster"
    )
    args = parser.parse_args(argv)
    harness.stop_on_sigterm()
    print(harness.environment_line())
    harness.quiet_machine_warning()
    runs = []
    with ThrowawayCluster(durable=True, settings=harness.cluster_settings(args)) as cluster:
        for n in range(args.runs):
            runs.append(one_run(cluster.url, args))
            r = runs[-1]
            print(
                f"run {n + 1}: workers after {r['logins']} logins: "
                + ", ".join(f"{fmt(x)} MB" for x in r["after_logins_mb"])
                + f" (after {args.logins} trivial requests: "
                + ", ".join(f"{fmt(x)} MB" for x in r["after_trivial_mb"])
                + ")",
                flush=True,
            )
    per_worker = len(runs[0]["after_logins_mb"])
    rows = []
    for w in range(per_worker):
        logins = median([r["after_logins_mb"][w] for r in runs])
        trivial = median([r["after_trivial_mb"][w] for r in runs])
        started = median([r["started_mb"][w] for r in runs])
        rows.append(
            [f"worker {w + 1}", fmt(started), fmt(trivial), fmt(logins), fmt(logins / trivial, 2)]
        )
    harness.print_table(
        f"worker RSS (median of {len(runs)} runs) — adminpanel serve --workers {args.workers}, "
        f"PostgreSQL 15 (throwaway); trivial = GET {runs[0]['trivial_path']}",
        ["", "started MB", f"+{args.logins} trivial MB", f"+{args.logins} logins MB", "ratio"],
        rows,
    )
    worst = median([r["max_after_logins_mb"] for r in runs])
    met = worst <= LIMIT_MB
    print(
        f"  target: each worker <= {LIMIT_MB} MB after {args.logins} logins: "
        f"{'met' if met else 'MISSED'} (largest worker, median: {fmt(worst)} MB)"
    )
    harness.emit_json(
        {
            "benchmark": "memory",
            "workers": args.workers,
            "runs": len(runs),
            "median_max_worker_rss_mb": round(worst, 1),
            "median_ratio_to_trivial": round(
                worst / median([r["max_after_trivial_mb"] for r in runs]), 3
            ),
            "targets_met": {f"worker_rss_mb<={LIMIT_MB}": met},
            "each_run": runs,
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
