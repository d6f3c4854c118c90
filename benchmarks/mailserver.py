"""What the mail servers' lookups cost, and why Postfix does not read SQLite itself.

    .venv/bin/python -m benchmarks.mailserver                  # both databases
    .venv/bin/python -m benchmarks.mailserver --database sqlite

For each database: a private Postfix + Dovecot (`adminpanel mailserver-run`'s code) on a panel
database holding --mailboxes mailboxes and as many aliases, then
  1. Postfix table lookups per second (`postmap -q -`: one process, many keys, as a Postfix
     daemon does them): the mailbox and the alias table, half the keys unknown;
  2. recipient checks per second over SMTP (RCPT TO, 4 sessions): every lookup smtpd makes;
  3. IMAP logins per second (LOGIN + LOGOUT, 4 clients), Argon2id at the panel's cost, with
     Dovecot's auth cache off (as configured) and on;
  4. 200 messages over 4 SMTP sessions while the panel commits edits in a loop: stalls
     (a 4xx or a 10 s timeout), messages lost, and Postfix `fatal:` lines. On SQLite this
     runs twice: with the lookup server (as configured) and with Postfix's own `sqlite:`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

from benchmarks.databases import prepare_environment
from benchmarks.harness import stop_on_sigterm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--mailboxes", type=int, default=2000)
    parser.add_argument("--lookups", type=int, default=4000)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument(
        "--rollback-journal",
        action="store_true",
        help="SQLite in rollback-journal mode instead of the panel's WAL: only Postfix's own "
        "sqlite: under edits (shows what a lock does to a Postfix daemon)",
    )
    args = parser.parse_args()
    stop_on_sigterm()
    if args.database == "both":
        runs = [["sqlite"], ["sqlite", "--rollback-journal"], ["postgresql"]]
        for database, *extra in runs:
            argv = [sys.executable, "-m", "benchmarks.mailserver", "--database", database, *extra]
            argv += ["--mailboxes", str(args.mailboxes), "--lookups", str(args.lookups)]
            argv += ["--logins", str(args.logins)]
            child = subprocess.Popen(argv)
            try:
                if child.wait():
                    return 1
            except SystemExit:  # SIGTERM: the child stops what it started, then so do we
                child.terminate()
                child.wait()
                raise
        return 0
    cluster = prepare_environment(args.database, prefix="adminpanel-bench-mail-")
    try:
        import django

        django.setup()
        if args.rollback_journal:
            from django.conf import settings

            # Before the first connection: the new database file is made in this mode.
            settings.DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=DELETE;"
        from benchmarks.mailserver_run import run

        print(json.dumps(run(args)), flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(os.environ["ADMINPANEL_DATA_DIR"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
