"""The app-password benchmark's measurements (benchmarks/app_passwords.py), imported once
Django is set up."""

from __future__ import annotations

import argparse
import imaplib
import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from adminpanel.accounts.models import Account
from adminpanel.mail import app_passwords, services
from adminpanel.mail.models import Mailbox
from adminpanel.mailserver.config import Database
from adminpanel.mailserver.instance import PrivateMailServer
from testbed.postgres import free_port

PASSWORD = "Mailbox-Cobalt-Harbor-27"
PLAIN = "plain-baseline-password-42"
WARM_UP = 5


class ImapFrom(imaplib.IMAP4):
    """An IMAP client connecting from a given loopback address (Dovecot's client IP)."""

    def __init__(self, port: int, source: str):
        self.source = source
        super().__init__("127.0.0.1", port, timeout=60)

    def _create_socket(self, timeout):
        return socket.create_connection(
            (self.host, self.port), timeout, source_address=(self.source, 0)
        )


def login(port: int, address: str, password: str, source: str = "127.0.0.1") -> bool:
    imap = ImapFrom(port, source)
    try:
        imap.login(address, password)
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.abort, OSError):
            pass
    return True


def load() -> float:
    return round(os.getloadavg()[0], 2)


def logins_per_second(port: int, address: str, password: str, n: int, clients: int) -> dict:
    for _ in range(WARM_UP):
        assert login(port, address, password), f"{address} cannot log in"
    times: list[float] = []

    def one(_) -> None:
        started = time.perf_counter()
        assert login(port, address, password)
        times.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - started
    return {
        "logins_per_s": round(n / elapsed, 1),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(statistics.quantiles(times, n=20)[18] * 1000, 1),
        "load_1min": load(),
    }


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def mail_host_pids(server: PrivateMailServer) -> list[int]:
    """Dovecot's processes of this instance, and this process (the policy server's thread)."""
    marker = f"adminpanel-{server.dir.name}"
    found = [os.getpid()]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in command or f"dovecot-{marker}" in command:
                found.append(int(entry.name))
    return found


def storm(server: PrivateMailServer, args: argparse.Namespace, secret: str) -> dict:
    """Wrong passwords for victim@ from 127.0.0.2, bounded in clients and time, while a right
    app password logs in from 127.0.0.1."""
    stop = threading.Event()
    attempts = [0]
    memory_before = rss_kib(mail_host_pids(server))

    def guess(worker: int) -> None:
        tries = 0
        while not stop.is_set():
            try:
                login(server.imap_port, "victim@b.example", f"guess-{worker}-{tries}", "127.0.0.2")
            except (OSError, imaplib.IMAP4.abort):
                pass
            tries += 1
        attempts[0] += tries

    guessers = [
        threading.Thread(target=guess, args=(w,), daemon=True) for w in range(args.storm_clients)
    ]
    for thread in guessers:
        thread.start()
    time.sleep(1)  # the storm is on
    right = 0
    peak = memory_before
    started = time.perf_counter()
    while time.perf_counter() - started < args.storm_seconds:
        if login(server.imap_port, "app@b.example", secret):
            right += 1
        if right % 10 == 0:
            peak = max(peak, rss_kib(mail_host_pids(server)))
    elapsed = time.perf_counter() - started
    load_during = load()
    stop.set()
    for thread in guessers:
        thread.join()
    return {
        "storm_clients": args.storm_clients,
        "storm_attempts": attempts[0],
        "storm_attempts_per_s": round(attempts[0] / (elapsed + 1), 1),
        "right_app_password_logins_per_s_during_storm": round(right / elapsed, 1),
        "mail_host_rss_mib_before": round(memory_before / 1024, 1),
        "mail_host_rss_mib_peak_during": round(peak / 1024, 1),
        "load_1min": load_during,
    }


def seed() -> tuple[str, str]:
    call_command("migrate", interactive=False, verbosity=0)
    admin = Account.objects.create_user("admin", "Admin-Quartz-Lantern-4817", is_owner=True)
    services.create_domain(admin, name="b.example")
    app = services.create_mailbox(admin, address="app@b.example", password=PASSWORD)
    services.create_mailbox(admin, address="argon@b.example", password=PASSWORD)
    plain = services.create_mailbox(admin, address="plain@b.example", password=PASSWORD)
    services.create_mailbox(admin, address="victim@b.example", password=PASSWORD)
    # Benchmark only: a password Dovecot compares as it is (the panel never stores one).
    Mailbox.objects.filter(pk=plain.pk).update(password_hash="{PLAIN}" + PLAIN)
    secret = app_passwords.create_app_password(app, name="Benchmark").secret
    return secret, secret.replace(" ", "")


def run(args: argparse.Namespace) -> dict:
    secret, typed = seed()
    directory = Path(tempfile.mkdtemp(prefix="adminpanel-bench-app-passwords-"))
    server = PrivateMailServer(
        directory,
        Database.of(connection.settings_dict),
        smtp_port=free_port(),
        imap_port=free_port(),
        # The storm's address is refused by the per-IP limit after this many: the figure is
        # then what the storm costs when refused at the policy check.
        auth_ip_failures=args.ip_failures,
    )
    result: dict = {"database": connection.vendor, "clients": args.clients, "logins": args.logins}
    try:
        server.start()
        port = server.imap_port
        for name, address, password in [
            ("app_password", "app@b.example", typed),
            ("plain_baseline", "plain@b.example", PLAIN),
            ("argon2id_mailbox_password", "argon@b.example", PASSWORD),
        ]:
            result[name] = logins_per_second(port, address, password, args.logins, args.clients)
        result["app_password_one_client"] = logins_per_second(
            port, "app@b.example", typed, args.logins // 2, 1
        )
        app, plain = result["app_password"], result["plain_baseline"]
        argon = result["argon2id_mailbox_password"]
        result["app_vs_plain"] = round(app["logins_per_s"] / plain["logins_per_s"], 3)
        result["app_vs_argon2id"] = round(app["logins_per_s"] / argon["logins_per_s"], 2)
        result["storm"] = storm(server, args, typed)
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
    print(f"\n{connection.vendor}")
    for key, value in result.items():
        print(f"  {key:34} {value}")
    return result
