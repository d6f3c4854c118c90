"""What an app password costs an IMAP login, and logins during a storm of wrong passwords.

    .venv/bin/python -m benchmarks.app_passwords                  # both databases
    .venv/bin/python -m benchmarks.app_passwords --database sqlite --logins 400

For each database: a private Postfix + Dovecot (`adminpanel mailserver-run`'s code, the policy
server included) and three mailboxes, then, in one run, IMAP logins per second (a new
connection, LOGIN, LOGOUT; --clients at once, after a few warm-up logins) with
  - an app password (Dovecot's first passdb: one keyed SHA-256 and one indexed lookup);
  - a `{PLAIN}` mailbox password (benchmark-only: a password Dovecot compares without hashing,
    the baseline of what a login costs without any password hashing);
  - the Argon2id mailbox password at the panel's cost (19 MiB, 2 passes);
the p50 of one app-password login alone (one client); and a storm: --storm-clients clients
sending wrong passwords for another mailbox from 127.0.0.2 for --storm-seconds, while one client
logs in with the right app password from 127.0.0.1: its logins per second, the storm's
attempts, and the mail host's memory (Dovecot's and the policy server's processes) before and
during it. Machine load (1-minute average) is printed with each figure.
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.databases import on_each_database
from benchmarks.harness import stop_on_sigterm


def measure(args: argparse.Namespace) -> None:
    from benchmarks.app_passwords_run import run  # the models need django.setup() first

    print(json.dumps(run(args)), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--logins", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--storm-clients", type=int, default=8)
    parser.add_argument("--storm-seconds", type=float, default=10)
    parser.add_argument("--ip-failures", type=int, default=100)
    args = parser.parse_args()
    stop_on_sigterm()
    return on_each_database("benchmarks.app_passwords", args.database, lambda: measure(args))


if __name__ == "__main__":
    sys.exit(main())
