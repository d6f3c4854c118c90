"""The panel at a hosting company's size (issue 20, SPEC §17): pages and lookups with 1,000
domains, 100,000 mailboxes, 100,000 aliases and 1,000,000 log events, on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.scale                                  # both databases
    .venv/bin/python -m benchmarks.scale --database postgresql --runs 15
    .venv/bin/python -m benchmarks.scale --mailboxes 10000 --events 100000   # a quick look

The data is written in bulk (the rows the services would write, not through them: the
benchmark measures reading at scale, not making it), the database analysed, then each page is
asked --runs times through Django's test client, in-process (the view, its middleware and its
queries; no HTTP server, no network): p50 and p90 in ms. As the Admin, as a Sub-Admin
with web and API access to everything (the API's pages need a token), and as a Sub-Admin
limited to 10 domains (SPEC §17, web and API). Postfix's recipient
lookup is the generated map's own SQL on the contract view, p50 of --lookups lookups.
Target (issue 20): every page p50 under 50 ms, the recipient lookup under 1 ms.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import sys
import time
from datetime import timedelta

from benchmarks.databases import on_each_database
from benchmarks.harness import environment_line, print_table, stop_on_sigterm

PASSWORD = "bench-password-horse-7"
BATCH = 5000


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--mailboxes", type=int, default=100_000)
    parser.add_argument("--aliases", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15, help="requests per page (p50, p90)")
    parser.add_argument("--lookups", type=int, default=2000, help="recipient lookups")
    return parser.parse_args()


def _fill(args) -> dict:
    """Domains, mailboxes, aliases and events in bulk; returns names the pages ask for."""
    from django.contrib.auth.hashers import make_password

    from adminpanel import clock
    from adminpanel.audit.catalogue import AuditEvent
    from adminpanel.audit.models import Event
    from adminpanel.mail.models import Alias, Domain, Mailbox
    from adminpanel.people.models import Person

    started = time.perf_counter()
    now = clock.now()
    domains = Domain.objects.bulk_create(
        [Domain(name=f"customer{n:04d}.example") for n in range(args.domains)], batch_size=BATCH
    )
    password_hash = make_password("mailbox-password-horse-7")
    person_field = "person" in {f.name for f in Mailbox._meta.get_fields()}
    for first in range(0, args.mailboxes, BATCH):
        numbers = range(first, min(first + BATCH, args.mailboxes))
        people = (
            Person.objects.bulk_create([Person(kind="mailbox") for _ in numbers])
            if person_field
            else []
        )
        rows = []
        for i, n in enumerate(numbers):
            domain = domains[n % args.domains]
            row = Mailbox(
                local_part=f"user{n}",
                domain=domain,
                display_name=f"User {n}",
                password_hash=password_hash,
                maildir=f"{domain.name}/user{n}.{n:016x}/",
            )
            if person_field:
                row.person = people[i]
            rows.append(row)
        Mailbox.objects.bulk_create(rows)
    for first in range(0, args.aliases, BATCH):
        rows = []
        for n in range(first, min(first + BATCH, args.aliases)):
            domain = domains[n % args.domains]
            rows.append(
                Alias(
                    local_part=f"team{n}",
                    domain=domain,
                    lookup_address=f"team{n}@{domain.name}",
                    destinations=[f"user{n}@{domain.name}"],
                )
            )
        Alias.objects.bulk_create(rows)
    names = [AuditEvent.MAILBOX_CREATED, AuditEvent.MAILBOX_UPDATED, AuditEvent.ALIAS_CREATED]
    for first in range(0, args.events, BATCH):
        rows = []
        for n in range(first, min(first + BATCH, args.events)):
            domain = domains[n % args.domains]
            rows.append(
                Event(
                    at=now - timedelta(seconds=30 * (args.events - n)),
                    actor_name="helpdesk",
                    event=names[n % len(names)],
                    ip="192.0.2.10",
                    details={"address": f"user{n % args.mailboxes}@{domain.name}"},
                    domain=domain.name,  # as audit.record() fills it (SPEC §17)
                )
            )
        Event.objects.bulk_create(rows)
    return {
        "fill_s": time.perf_counter() - started,
        "domain": domains[len(domains) // 2].name,
        "search": f"user{args.mailboxes // 2}",
    }


def _analyse() -> None:
    """Statistics for the planners; on PostgreSQL a VACUUM too, which autovacuum would have done
    long since on a real host: it marks the pages all-visible, so that a count or a page's ids
    are read from an index alone."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _web_client(username: str):
    from django.test import Client

    client = Client()
    answer = client.post("/login", {"username": username, "password": PASSWORD})
    if answer.status_code != 302:
        raise SystemExit(f"{username} could not sign in: {answer.status_code}")
    return client


def _api_token(username: str) -> str:
    from django.test import Client

    answer = Client().post(
        "/api/v1/auth/login",
        {"username": username, "password": PASSWORD},
        content_type="application/json",
    )
    if answer.status_code != 200:
        raise SystemExit(f"{username} got no token: {answer.status_code} {answer.content!r}")
    return answer.json()["token"]


def _timed(runs: int, ask) -> list[float]:
    ask()  # the first request warms caches (templates, the database's own)
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        status = ask()
        took.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"answered {status}")
    return took


def _getter(client, path: str):
    return lambda: client.get(path).status_code


def _pages(args, names: dict) -> dict[str, list[float]]:
    from django.test import Client

    from adminpanel.accounts.models import Account, Level
    from adminpanel.subadmins import services as subadmins

    admin = Account.objects.create_user("bench-admin", PASSWORD, is_owner=True)
    everything = {section: Level.EDIT for section in ("domains", "users", "aliases", "logs")}
    subadmins.create_subadmin(
        admin,
        username="bench-helpdesk",
        password=PASSWORD,
        active=True,
        web_access=True,
        api_access=False,
        levels=everything,
        allowed_ips=[],
    )
    subadmins.create_subadmin(
        admin,
        username="bench-robot",
        password=PASSWORD,
        active=True,
        web_access=False,
        api_access=True,
        levels=everything,
        allowed_ips=[],
    )
    # A customer's helpdesk (SPEC §17): limited to 10 domains, the searched one among them.
    tenth = (f"customer{n:04d}.example" for n in range(min(args.domains, 10)))
    scoped = sorted({names["domain"], *tenth})
    for username, web_access in (("bench-desk", True), ("bench-desk-robot", False)):
        subadmins.create_subadmin(
            admin,
            username=username,
            password=PASSWORD,
            web_access=web_access,
            api_access=not web_access,
            levels=everything,
            domains_scope=scoped,
        )
    web = {
        "Admin": _web_client("bench-admin"),
        "Sub-Admin": _web_client("bench-helpdesk"),
        "limited Sub-Admin": _web_client("bench-desk"),
    }
    token = _api_token("bench-robot")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    limited_api = Client(headers={"Authorization": f"Bearer {_api_token('bench-desk-robot')}"})
    domain, search = names["domain"], names["search"]
    last_page = max((args.mailboxes + 24) // 25, 1)
    deep = max(args.mailboxes - 100, 0)
    web_pages = {
        "Home": "/",
        "Domains": "/domains",
        "Users, first page": "/users",
        "Users, a search": f"/users?q={search}",
        "Users of one domain": f"/users?q={domain}",
        "Users, last page": f"/users?page={last_page}",
        "Aliases": "/aliases",
        "Aliases, a search": f"/aliases?q=team{args.aliases // 2}",
        "Logs": "/logs",
    }
    api_pages = {
        "GET /api/v1/users": "/api/v1/users",
        "GET /api/v1/users, a search": f"/api/v1/users?search={search}",
        "GET /api/v1/users, one domain": f"/api/v1/users?domain={domain}",
        f"GET /api/v1/users?offset={deep}": f"/api/v1/users?offset={deep}",
        "GET /api/v1/logs": "/api/v1/logs",
    }
    apis = {"Sub-Admin": api, "limited Sub-Admin": limited_api}
    figures = {}
    for name, path in web_pages.items():
        for who, client in web.items():
            figures[name, who] = _timed(args.runs, _getter(client, path))
    for name, path in api_pages.items():
        for who, client in apis.items():
            figures[name, who] = _timed(args.runs, _getter(client, path))
    return figures


def _recipient_lookups(args) -> list[float]:
    """Postfix's mailbox map (the generated query, bound as Postfix quotes it) on the view."""
    from django.db import connection

    from adminpanel.mailserver.config import MAP_QUERIES

    query = MAP_QUERIES["mailboxes"].replace("'%u'", "%s").replace("'%d'", "%s")
    picks = random.Random(7)
    took = []
    with connection.cursor() as cursor:
        for _ in range(args.lookups):
            n = picks.randrange(args.mailboxes)
            started = time.perf_counter()
            cursor.execute(query, [f"user{n}", f"customer{n % args.domains:04d}.example"])
            found = cursor.fetchall()
            took.append((time.perf_counter() - started) * 1000)
            if len(found) != 1:
                raise SystemExit(f"user{n} not found by Postfix's query")
    return took


WHO = ("Admin", "Sub-Admin", "limited Sub-Admin")


def _cell(took: list[float] | None) -> str:
    if not took:
        return ""
    p50, p90 = statistics.median(took), statistics.quantiles(took, n=10)[-1]
    digits = 2 if p90 < 1 else 1  # a lookup's fractions of a millisecond
    return f"{p50:.{digits}f} ({p90:.{digits}f})"


def _run(args) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    for name in ("adminpanel.requests", "adminpanel.events"):  # a line per request: not here
        logging.getLogger(name).setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    names = _fill(args)
    _analyse()
    load_before = os.getloadavg()
    figures = _pages(args, names)
    figures["Postfix recipient lookup", "Admin"] = _recipient_lookups(args)
    load_after = os.getloadavg()
    # The README's table: a row per page, in its order; a column per account.
    pages = list(dict.fromkeys(page for page, _ in figures))
    rows = [[page, *(_cell(figures.get((page, who))) for who in WHO)] for page in pages]
    database = connection.vendor
    print_table(
        f"{database}: {args.domains} domains, {args.mailboxes} mailboxes, {args.aliases} "
        f"aliases, {args.events} events (filled in {names['fill_s']:.0f} s); p50 (p90) in ms "
        f"of {args.runs} requests; the API's Sub-Admins have API access only",
        ["page", *WHO],
        rows,
    )
    print(environment_line())
    print(
        "load average (1, 5, 15 min) before the pages: "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in load_after)
        + f"; the whole run on {database}: {time.perf_counter() - started:.0f} s"
    )
    document = {
        f"{page} ({who})": round(statistics.median(took), 2)
        for (page, who), took in figures.items()
    }
    print(json.dumps({"benchmark": "scale", "database": database, "p50_ms": document}))


def main() -> int:
    args = _arguments()
    stop_on_sigterm()
    return on_each_database("benchmarks.scale", args.database, lambda: _run(args))


if __name__ == "__main__":
    sys.exit(main())
