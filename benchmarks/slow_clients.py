"""`slow_clients`: full web logins while many connections send their request slowly.

A slow client (slowloris) opens a connection and sends its request headers one byte every few
seconds, never finishing them. Each such connection must cost the panel a little memory, not a
worker: this measures 50 full logins (as in `login`, concurrency 8) alone, then again while 200
slow connections are held open, and prints the latency of both.

    .venv/bin/python -m benchmarks.slow_clients [--workers 2] [--runs 3] [--slow 200] [--url URL]
"""

from __future__ import annotations

import argparse
import socket
import threading

import pyotp

from benchmarks import harness
from benchmarks.harness import fmt
from benchmarks.login import login_flow

# A request that never ends: its bytes go out one at a time, with no blank line at the end.
SLOW_REQUEST = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4096


class SlowClients:
    """n connections to host:port, each sending one more header byte every `interval` seconds.

    A context manager: the connections are opened on entry and closed on exit. `sent` counts
    bytes written, `closed_by_server` connections the server ended (a header timeout).
    """

    def __init__(self, host: str, port: int, n: int = 200, interval: float = 2.0) -> None:
        self.host, self.port, self.n, self.interval = host, port, n, interval
        self.sockets: list[socket.socket] = []
        self.sent = 0
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> SlowClients:
        for _ in range(self.n):
            sock = socket.create_connection((self.host, self.port), timeout=10)
            sock.sendall(SLOW_REQUEST[:1])
            self.sockets.append(sock)
        self._thread.start()
        return self

    def _trickle(self) -> None:
        position = 1
        while not self._stop.wait(self.interval) and position < len(SLOW_REQUEST):
            for sock in list(self.sockets):
                try:
                    sock.sendall(SLOW_REQUEST[position : position + 1])
                    self.sent += 1
                except OSError:
                    self.sockets.remove(sock)
                    self.closed_by_server += 1
            position += 1

    def wait_for_round(self) -> None:
        """Until every connection has sent its second byte: all of them are trickling."""
        while self.sent < self.n and self._thread.is_alive():
            self._stop.wait(0.1)

    @property
    def open(self) -> int:
        return len(self.sockets)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()


def measure_logins(target: harness.Target, n: int, concurrency: int) -> harness.Measured:
    key = pyotp.random_base32(32)
    usernames = harness.seed_accounts(target, n, key)
    return harness.run_concurrently(usernames, concurrency, login_flow(target, pyotp.TOTP(key), []))


def one_run(target: harness.Target, args) -> dict:
    alone = measure_logins(target, args.flows, 8)
    host, port = target.host_port
    with SlowClients(host, port, args.slow, args.interval) as slow:
        slow.wait_for_round()
        held = measure_logins(target, args.flows, 8)
        still_open = slow.open
    return {
        "alone_flows_per_s": alone.rate,
        "alone_p50_ms": alone.p50_ms,
        "alone_p99_ms": alone.p99_ms,
        "alone_errors": alone.errors,
        "slow_flows_per_s": held.rate,
        "slow_p50_ms": held.p50_ms,
        "slow_p99_ms": held.p99_ms,
        "slow_errors": held.errors,
        "slow_connections_open": still_open,
    }


def report(runs: list[dict], target: harness.Target, args) -> None:
    m = harness.medians(runs)
    rows = [
        [
            f"{args.flows} logins, c8, alone",
            fmt(m["alone_flows_per_s"]),
            fmt(m["alone_p50_ms"], 1),
            fmt(m["alone_p99_ms"], 1),
            fmt(m["alone_errors"], 0),
        ],
        [
            f"{args.flows} logins, c8, with {args.slow} slow connections",
            fmt(m["slow_flows_per_s"]),
            fmt(m["slow_p50_ms"], 1),
            fmt(m["slow_p99_ms"], 1),
            fmt(m["slow_errors"], 0),
        ],
    ]
    harness.print_table(
        f"logins beside slow clients (median of {len(runs)} runs) — {target.description}",
        ["", "flows/s", "p50 ms", "p99 ms", "errors"],
        rows,
    )
    ratios = {"slow_to_alone_p50": round(m["slow_p50_ms"] / m["alone_p50_ms"], 3)}
    targets = {"no_errors_with_slow_clients": m["slow_errors"] == 0}
    harness.conclude("slow_clients", target, args, runs, ratios, targets)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flows", type=int, default=50, help="logins measured (default 50)")
    parser.add_argument("--slow", type=int, default=200, help="slow connections (default 200)")
    parser.add_argument(
        "--interval", type=float, default=2.0, help="seconds between a slow client's bytes"
    )


def _progress(r: dict) -> str:
    return (
        f"p50 alone {fmt(r['alone_p50_ms'])} ms, with slow clients {fmt(r['slow_p50_ms'])} ms, "
        f"errors {r['slow_errors']}, slow connections still open {r['slow_connections_open']}"
    )


def main(argv: list[str] | None = None) -> int:
    return harness.run_benchmark(
        "slow_clients",
        __doc__,
        _arguments,
        lambda target, args: lambda: one_run(target, args),
        _progress,
        report,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
