"""What a 10,000-line mailbox import costs (SPEC §16, Import CSV), on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.mail_import                    # both databases
    .venv/bin/python -m benchmarks.mail_import --database sqlite --lines 10000 --runs 3
    .venv/bin/python -m benchmarks.mail_import --generated-lines 1000   # Argon2id: ~16 ms a line

Each run imports --lines mailboxes into a fresh domain through the service the web and the API
call (`mail.mailbox_csv.import_mailboxes`, real run: checks, one transaction, bulk insert, the
audit event), twice: every line with an imported {SHA512-CRYPT} hash (no hashing at all), and
every line with an empty password (a generated one, hashed with Argon2id at the panel's cost).
For the second, the Argon2id share is timed apart: the same number of hashes, made alone.
A dry run (the preview) of the hashed file is timed too. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from benchmarks.databases import on_each_database
from benchmarks.harness import stop_on_sigterm

# `doveadm pw -s SHA512-CRYPT -p secret`: every line may carry the same hash.
SHA512_CRYPT = (
    "{SHA512-CRYPT}$6$k.Kp3/HG.TfaFhTA$LakupcI2RCSGvpA9iCgifjeouFyt6T9YC1FNQLRcoMkqSqlFWxqfjuP"
    "qiG8h/8Vc2ah.F7Sn4erD.wr6j1O33."
)


def _csv(domain: str, lines: int, password: str) -> str:
    rows = [f'user{n}@{domain},User {n},"{password}",' for n in range(lines)]
    return "address,display_name,password,quota_mb\n" + "\n".join(rows) + "\n"


def _run(args) -> dict:
    """Inside Django: the figures of --runs runs on this database."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from adminpanel.accounts.models import Account
    from adminpanel.mail import services
    from adminpanel.mail.mailbox_csv import generated_password, import_mailboxes

    call_command("migrate", verbosity=0)
    admin = Account.objects.create_user("bench-admin", "bench-password-horse-7", is_owner=True)
    figures: dict[str, list[float]] = {
        "dry_run_hashes_s": [],
        "import_hashes_s": [],
        "import_generated_s": [],
        "argon2id_alone_s": [],
    }
    for run in range(args.runs):
        for kind, password, lines in (
            ("hashes", SHA512_CRYPT, args.lines),
            ("generated", "", args.generated_lines),
        ):
            domain = f"r{run}-{kind}.example"
            services.create_domain(admin, name=domain)
            text = _csv(domain, lines, password)
            if kind == "hashes":
                started = time.perf_counter()
                preview = import_mailboxes(admin, text, dry_run=True)
                figures["dry_run_hashes_s"].append(time.perf_counter() - started)
                assert preview.ok, preview.errors[:3]
            started = time.perf_counter()
            result = import_mailboxes(admin, text, dry_run=False)
            figures[f"import_{kind}_s"].append(time.perf_counter() - started)
            assert result.created == lines, result.errors[:3]
        started = time.perf_counter()
        for _ in range(args.generated_lines):
            make_password(generated_password(), hasher="argon2")
        figures["argon2id_alone_s"].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in figures.items()}
    share = medians["argon2id_alone_s"] / medians["import_generated_s"]
    return {
        "database": connection.vendor,
        "lines": args.lines,
        "generated_lines": args.generated_lines,
        "runs": args.runs,
        "medians": medians,
        "argon2id_share_of_generated": share,
        "all": figures,
    }


def _table(result: dict) -> str:
    m = result["medians"]
    rows = [
        ("preview (dry run), imported hashes", m["dry_run_hashes_s"]),
        ("import, imported hashes", m["import_hashes_s"]),
        (
            f"import, generated passwords ({result['generated_lines']:,} lines)",
            m["import_generated_s"],
        ),
        ("  of which Argon2id (the same hashes alone)", m["argon2id_alone_s"]),
        ("  the rest", m["import_generated_s"] - m["argon2id_alone_s"]),
    ]
    head = f"{result['database']}, {result['lines']:,} lines, median of {result['runs']} run(s)"
    lines = [head] + [f"  {label:<52} {seconds:8.2f} s" for label, seconds in rows]
    lines.append(
        f"  Argon2id share of the generated import: {result['argon2id_share_of_generated']:.0%}"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument(
        "--generated-lines", type=int, help="lines of the generated-password import (--lines)"
    )
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    args.generated_lines = args.generated_lines or args.lines
    stop_on_sigterm()

    def run() -> None:
        result = _run(args)
        print(_table(result), flush=True)
        print(json.dumps(result), flush=True)

    return on_each_database("benchmarks.mail_import", args.database, run)


if __name__ == "__main__":
    sys.exit(main())
