"""Deleting and restoring a mailbox of 10,000 messages (SPEC §16; the target: under 5 s).

    .venv/bin/python -m benchmarks.mailbox_life                  # both databases
    .venv/bin/python -m benchmarks.mailbox_life --database sqlite --messages 10000

For each database: a private Postfix + Dovecot (`adminpanel mailserver-run`'s code) and one
mailbox whose maildir holds --messages messages (written as maildir files, then indexed by
Dovecot once, outside the timing). Then, --runs times:
  delete:  the panel deletes the mailbox (the service the page and the API call) until Postfix
           refuses its address at RCPT TO and Dovecot refuses its password;
  restore: the panel restores it until IMAP shows every message in its INBOX again.
Both times include the mail servers' next lookup, since that is when the change is real.
"""

from __future__ import annotations

import argparse
import imaplib
import json
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.databases import on_each_database
from benchmarks.harness import stop_on_sigterm

PASSWORD = "Mailbox-Cobalt-Harbor-27"
ADDRESS = "big@example.com"


def fill_maildir(maildir: Path, messages: int) -> None:
    """`messages` small messages in the maildir's cur/, owned by vmail, as Dovecot stores them."""
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for i in range(messages):
        body = (
            f"From: a@outside.test\r\nTo: {ADDRESS}\r\nSubject: Message {i}\r\n\r\nHello {i}.\r\n"
        )
        (maildir / "cur" / f"{1700000000 + i}.M{i}P1.bench,S={len(body)}:2,").write_text(body)
    subprocess.run(["chown", "-R", "vmail:vmail", str(maildir.parent)], check=True)  # noqa: S607


def refused(server, password: str) -> bool:
    """Whether Postfix refuses the address and Dovecot its password."""
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as smtp:
        smtp.ehlo()
        smtp.mail("bench@outside.test")
        code, _ = smtp.rcpt(ADDRESS)
    imap = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=60)
    try:
        imap.login(ADDRESS, password)
    except imaplib.IMAP4.error:
        return code >= 500
    imap.logout()
    return False


def inbox_count(server) -> int:
    imap = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=120)
    try:
        imap.login(ADDRESS, PASSWORD)
        _, data = imap.select("INBOX", readonly=True)
        return int(data[0])
    finally:
        imap.logout()


def run(args: argparse.Namespace) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from adminpanel.accounts.models import Account
    from adminpanel.mail import deleted, services
    from adminpanel.mailserver.config import Database
    from adminpanel.mailserver.instance import PrivateMailServer
    from testbed.postgres import free_port

    call_command("migrate", interactive=False, verbosity=0)
    admin = Account.objects.create_user("admin", "Admin-Quartz-Lantern-4817", is_owner=True)
    services.create_domain(admin, name="example.com")
    mailbox = services.create_mailbox(admin, address=ADDRESS, password=PASSWORD)
    directory = Path(tempfile.mkdtemp(prefix="adminpanel-bench-life-"))
    server = PrivateMailServer(
        directory,
        Database.of(connection.settings_dict),
        smtp_port=free_port(),
        imap_port=free_port(),
    )
    deletes, restores = [], []
    try:
        server.start()
        fill_maildir(server.mail_root / mailbox.maildir, args.messages)
        assert inbox_count(server) == args.messages  # Dovecot indexes them once, untimed
        for _ in range(args.runs):
            started = time.perf_counter()
            services.delete_mailbox(admin, mailbox)
            while not refused(server, PASSWORD):
                time.sleep(0.01)
            deletes.append(time.perf_counter() - started)
            started = time.perf_counter()
            deleted.restore_mailbox(admin, deleted.get_deleted(admin, mailbox.pk))
            while inbox_count(server) != args.messages:
                time.sleep(0.01)
            restores.append(time.perf_counter() - started)
            mailbox.refresh_from_db()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
    result = {
        "database": connection.vendor,
        "messages": args.messages,
        "delete s (median)": round(statistics.median(deletes), 3),
        "restore s (median)": round(statistics.median(restores), 3),
        "delete s": [round(t, 3) for t in deletes],
        "restore s": [round(t, 3) for t in restores],
    }
    for key, value in result.items():
        print(f"  {key:22} {value}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stop_on_sigterm()
    return on_each_database(
        "benchmarks.mailbox_life", args.database, lambda: print(json.dumps(run(args)), flush=True)
    )


if __name__ == "__main__":
    sys.exit(main())
