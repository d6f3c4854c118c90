"""The measurements of benchmarks/mailserver.py, run after django.setup()."""

from __future__ import annotations

import argparse
import imaplib
import random
import shutil
import smtplib
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from adminpanel.accounts.models import Account
from adminpanel.mail import services
from adminpanel.mail.maildirs import new_maildir
from adminpanel.mail.models import PERSON_KIND, Alias, Mailbox
from adminpanel.mailserver.config import Database
from adminpanel.mailserver.instance import PrivateMailServer, program
from adminpanel.people.models import Person
from testbed.postgres import free_port

SESSIONS = 4
MESSAGES = 200
PASSWORD = "Mailbox-Cobalt-Harbor-27"
STALL_SECONDS = 10
SENDER = "bench@outside.test"


def seed(n: int) -> Account:
    """n mailboxes over 10 domains and n aliases; one real Argon2id hash shared by all."""
    call_command("migrate", interactive=False, verbosity=0)
    admin = Account.objects.create_user("admin", "Admin-Quartz-Lantern-4817", is_owner=True)
    domains = [services.create_domain(admin, name=f"d{i}.example") for i in range(10)]
    first = services.create_mailbox(admin, address="m0@d0.example", password=PASSWORD)
    owners = Person.objects.bulk_create(Person(kind=PERSON_KIND) for _ in range(n))
    Mailbox.objects.bulk_create(
        Mailbox(
            person=owners[i],
            local_part=f"m{i}",
            domain=domains[i % 10],
            password_hash=first.password_hash,
            maildir=new_maildir(f"m{i}", domains[i % 10].name),
        )
        for i in range(1, n)
    )
    Alias.objects.bulk_create(
        Alias(
            local_part=f"a{i}",
            domain=domains[i % 10],
            lookup_address=f"a{i}@d{i % 10}.example",
            destinations=[f"m{i}@d{i % 10}.example", f"m{(i + 1) % n}@d{(i + 1) % 10}.example"],
        )
        for i in range(n)
    )
    return admin


def keys(kind: str, n: int, count: int, *, known: bool | None = None) -> list[str]:
    """Addresses of mailboxes ("m") or aliases ("a"): all of them there (known), none of them
    (not known), or every other one unknown (None)."""
    rng = random.Random(7)  # noqa: S311 - key choice, not security
    found = [f"{kind}{i}@d{i % 10}.example" for i in (rng.randrange(n) for _ in range(count))]
    unknown = [known is False or (known is None and i % 2 == 0) for i in range(count)]
    return [k.replace("@", "x@") if u else k for k, u in zip(found, unknown, strict=True)]


def table_lookups(server: PrivateMailServer, name: str, keys_: list[str]) -> float:
    """Lookups per second of one Postfix table, by `postmap -q -` (one process)."""
    main_cf = (server.postfix_dir / "main.cf").read_text()
    settings = dict(line.split(" = ", 1) for line in main_cf.splitlines() if " = " in line)
    table = {
        "mailboxes": settings["virtual_mailbox_maps"],
        "aliases": settings["virtual_alias_maps"].split(",")[0].strip(),
    }[name]
    started = time.perf_counter()
    subprocess.run(
        [program("postmap"), "-c", str(server.postfix_dir), "-q", "-", table],
        input="\n".join(keys_) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    return len(keys_) / (time.perf_counter() - started)


def rcpt_checks(server: PrivateMailServer, addresses: list[str], sessions: int = SESSIONS) -> float:
    def session(part: list[str]) -> None:
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as smtp:
            smtp.ehlo()
            for address in part:
                smtp.mail(SENDER)
                smtp.rcpt(address)
                smtp.rset()

    started = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        list(pool.map(session, [addresses[i::sessions] for i in range(sessions)]))
    return len(addresses) / (time.perf_counter() - started)


def connections_held(server: PrivateMailServer, sessions: int, n: int) -> int:
    """PostgreSQL connections open after `sessions` SMTP sessions checked RCPTs at once."""
    rcpt_checks(server, keys("m", n, 25 * sessions) + keys("a", n, 25 * sessions), sessions)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def imap_logins(server: PrivateMailServer, n: int) -> float:
    def login(_) -> None:
        imap = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=60)
        imap.login("m0@d0.example", PASSWORD)
        imap.logout()

    login(None)
    started = time.perf_counter()
    with ThreadPoolExecutor(SESSIONS) as pool:
        list(pool.map(login, range(n)))
    return n / (time.perf_counter() - started)


def message(to: str, subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = SENDER, to, subject
    mail.set_content("Hello.\n")
    return mail


def inbox_size(server: PrivateMailServer, address: str) -> int:
    imap = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=60)
    try:
        imap.login(address, PASSWORD)
        _, data = imap.select("INBOX", readonly=True)
        return int(data[0])
    finally:
        imap.logout()


def edits_while_mail_flows(server: PrivateMailServer, admin: Account, *, raw: bool) -> dict:
    """200 messages over 4 sessions while the panel commits edits in a loop: through the
    services (each edit with its log line), or `raw`: one-row UPDATEs, as fast as they go."""
    target = "m0@d0.example"
    before = inbox_size(server, target)
    log = server.log_dir / "postfix.log"
    log_start = log.stat().st_size
    stop, commits = threading.Event(), [0]

    def edit() -> None:
        other = Mailbox.objects.get(local_part="m1", domain__name="d1.example")
        alias = Alias.objects.get(local_part="a0", domain__name="d0.example")
        n = 0
        while not stop.is_set():
            n += 1
            if raw:
                Mailbox.objects.filter(pk=other.pk).update(display_name=f"n{n}")
                Alias.objects.filter(pk=alias.pk).update(active=True)
            else:
                services.update_mailbox(admin, other, display_name=f"n{n}")
                services.update_alias(admin, alias, destinations=[target], active=True)
            commits[0] += 2
        connection.close()

    def send(part: list[int]) -> tuple[int, float]:
        """Each message in its own SMTP session; a refusal, 4xx or timeout is a stall."""
        stalls, worst = 0, 0.0
        for i in part:
            started = time.perf_counter()
            try:
                with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=STALL_SECONDS) as smtp:
                    smtp.send_message(message(target, f"flow {i}"), SENDER, [target])
            except (smtplib.SMTPException, OSError):
                stalls += 1
            worst = max(worst, time.perf_counter() - started)
        return stalls, worst

    editor = threading.Thread(target=edit)
    editor.start()
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(SESSIONS) as pool:
            results = list(pool.map(send, [range(MESSAGES)[i::SESSIONS] for i in range(SESSIONS)]))
    finally:
        stop.set()
        editor.join()
    seconds = time.perf_counter() - started
    deadline = time.monotonic() + 120
    while inbox_size(server, target) - before < MESSAGES and time.monotonic() < deadline:
        time.sleep(0.5)
    text = log.read_bytes()[log_start:].decode(errors="replace")
    return {
        "seconds": round(seconds, 1),
        "panel_commits_per_s": round(commits[0] / seconds),
        "stalled_or_refused": sum(s for s, _ in results),
        "slowest_message_s": round(max(w for _, w in results), 2),
        # messages accepted but never delivered (a refused one is counted as a stall)
        "lost": MESSAGES - sum(s for s, _ in results) - (inbox_size(server, target) - before),
        "postfix_fatal_lines": text.count("fatal:"),
        "first_fatal": next((line for line in text.splitlines() if "fatal:" in line), "")[-120:],
    }


def _open_up_sqlite_for_postfix(path: str) -> None:
    """Postfix's sqlite: runs as user postfix and, in WAL mode, writes the -shm file."""
    db = Path(path)
    db.parent.chmod(0o777)
    for file in [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]:
        if file.exists():
            file.chmod(0o666)


def one_instance(args: argparse.Namespace, admin: Account, **options) -> dict:
    database = Database.of(connection.settings_dict)
    directory = Path(tempfile.mkdtemp(prefix="adminpanel-bench-mailserver-"))
    figures: dict = {}
    cached = options.pop("cached", False)
    edits_only = options.pop("edits_only", False)
    server = PrivateMailServer(
        directory,
        database,
        smtp_port=free_port(),
        imap_port=free_port(),
        auth_cache_size="10M" if cached else "0",
        **options,
    )
    if options.get("postfix_reads_sqlite"):
        _open_up_sqlite_for_postfix(database.name)
    try:
        server.start()
        if cached:
            figures["imap_logins_per_s_auth_cache_on"] = round(imap_logins(server, args.logins), 1)
            return figures
        n = args.mailboxes
        if edits_only:
            figures["raw_updates_while_mail_flows"] = edits_while_mail_flows(
                server, admin, raw=True
            )
            return figures
        figures["postfix_mailbox_lookups_per_s"] = round(
            table_lookups(server, "mailboxes", keys("m", n, args.lookups)), 0
        )
        figures["postfix_alias_lookups_per_s"] = round(
            table_lookups(server, "aliases", keys("a", n, args.lookups)), 0
        )
        # Each kind apart: a mailbox's RCPT also asks Dovecot's quota-status, an alias's not.
        for kind, prefix, known in (
            ("mailbox", "m", True),
            ("alias", "a", True),
            ("unknown", "m", False),
        ):
            addresses = keys(prefix, n, args.lookups // 4, known=known)
            figures[f"smtp_rcpt_{kind}_checks_per_s"] = round(rcpt_checks(server, addresses), 0)
        if connection.vendor == "postgresql":
            figures["postgresql_connections_after_16_smtp_sessions"] = connections_held(
                server, 16, n
            )
        if not options.get("postfix_reads_sqlite"):
            figures["imap_logins_per_s_auth_cache_off"] = round(imap_logins(server, args.logins), 1)
        for raw in (False, True):
            name = "raw_updates_while_mail_flows" if raw else "edits_while_mail_flows"
            figures[name] = edits_while_mail_flows(server, admin, raw=raw)
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return figures


def run(args: argparse.Namespace) -> dict:
    admin = seed(args.mailboxes)
    vendor = connection.vendor
    result: dict = {"database": vendor, "mailboxes": args.mailboxes, "aliases": args.mailboxes}
    if args.rollback_journal:
        label = "postfix reads sqlite: itself, rollback journal"
        result[label] = one_instance(args, admin, postfix_reads_sqlite=True, edits_only=True)
    else:
        label = "lookup server (socketmap)" if vendor == "sqlite" else "proxy:pgsql: on the views"
        result[label] = one_instance(args, admin)
        result[label].update(one_instance(args, admin, cached=True))
    if vendor == "sqlite" and not args.rollback_journal:
        label = "postfix reads sqlite: itself"
        result[label] = one_instance(args, admin, postfix_reads_sqlite=True)
    for name, figures in result.items():
        if isinstance(figures, dict):
            print(f"\n{vendor} — {name}")
            for key, value in figures.items():
                print(f"  {key:38} {value}")
    return result
