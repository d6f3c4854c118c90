"""Faults: an instance killed mid-burst loses nothing; a connection lost mid-request gives 503."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import requests

from testbed.cluster import Browser
from tests.cluster.instances import code

REPLAYED = "This code has already been used. Wait for the next code."


def full_login(url: str, account: dict) -> Browser:
    """Page, password, code, home, on one instance; raises on any unexpected answer."""
    tab = Browser(url)
    r = tab.password_step(account["username"], account["password"])
    if r.status_code != 302:
        raise AssertionError(f"password step on {url}: {r.status_code}")
    r = tab.code_step(code(account))
    if r.status_code != 302 or r.headers["Location"] != "/":
        raise AssertionError(f"code step on {url}: {r.status_code}")
    if not tab.logged_in():
        raise AssertionError(f"home on {url} after login")
    return tab


def log_in_after_the_fault(url: str, account: dict) -> Browser:
    """A login for an account whose flow was cut: its step may be spent, then a recovery code."""
    tab = Browser(url)
    assert tab.password_step(account["username"], account["password"]).status_code == 302
    r = tab.code_step(code(account))
    if r.status_code != 302:
        assert REPLAYED in r.text  # the killed worker had committed the code, nothing more
        r = tab.code_step(account["recovery_codes"][0])
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert tab.logged_in()
    return tab


def test_killing_one_instance_mid_burst_loses_nothing(fleet, accounts, pg):
    instance_a, instance_b = fleet.instances
    a, b = instance_a.url, instance_b.url
    people = accounts(26)
    before_a, before_b = full_login(a, people[0]), full_login(b, people[1])
    burst = people[2:]  # 4 tabs on A and 4 on B, 3 logins each, one after another
    lanes = [(a if lane % 2 == 0 else b, burst[lane::8]) for lane in range(8)]

    done_on_a = threading.Semaphore(0)
    logged_in: list[tuple[dict, Browser]] = []
    cut: list[dict] = []  # flows that were on A when it died
    errors_on_b: list[str] = []

    def lane_runner(url: str, mine: list[dict]) -> None:
        for account in mine:
            try:
                tab = full_login(url, account)
            except requests.ConnectionError:
                assert url == a
                cut.append(account)
                url = b  # the load balancer sends the rest to the survivor
                continue
            except AssertionError as failure:
                if url == b:
                    errors_on_b.append(str(failure))
                continue
            logged_in.append((account, tab))
            if url == a:
                done_on_a.release()

    with ThreadPoolExecutor(len(lanes)) as pool:
        running = [pool.submit(lane_runner, url, mine) for url, mine in lanes]
        for _ in range(2):  # let A finish a few logins, then kill it while the others run
            assert done_on_a.acquire(timeout=30)
        instance_a.kill()  # SIGKILL, master and workers
        for future in running:
            future.result()

    # The survivor kept serving: every flow sent to B logged in.
    assert errors_on_b == []
    assert cut, "A died with logins in flight"
    assert len(logged_in) + len(cut) == len(burst)
    assert before_b.logged_in() and before_a.on(b).logged_in()

    # No half-written state: PostgreSQL rolled back what the killed workers had open ...
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stuck = pg.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND (state LIKE 'idle in transaction%%' "
            "OR wait_event_type = 'Lock')"
        ).fetchone()[0]
        if stuck == 0:
            break
        time.sleep(0.2)
    assert stuck == 0
    # ... every session is either not logged in or wholly logged in ...
    for row in fleet.django_json(SESSIONS):
        assert row in ("anonymous", "pending", "logged_in"), row
    # ... and each account's 2FA state is whole.
    assert fleet.django_json(TWO_FACTOR_INVARIANTS) == []

    # Every cut flow can log in on the survivor; no lock, wait or count was left behind.
    for account in cut:
        log_in_after_the_fault(b, account)

    # The restarted instance serves the same sessions, those made on A and those made on B.
    instance_a.start()
    instance_a.wait_ready()
    assert before_a.logged_in() and before_b.on(a).logged_in()
    assert all(tab.on(a).logged_in() for _, tab in logged_in)


SESSIONS = """
import json
from django.contrib.sessions.models import Session
from django.contrib.auth import SESSION_KEY

kinds = []
for session in Session.objects.all():
    data = session.get_decoded()
    if SESSION_KEY in data:
        whole = {"login_at", "seen_at"} <= set(data)
        kinds.append("logged_in" if whole else f"half: {sorted(data)}")
    else:
        kinds.append("pending" if "pending_login" in data else "anonymous")
print(json.dumps(kinds))
"""

TWO_FACTOR_INVARIANTS = """
import json
from adminpanel.accounts.models import Account
from adminpanel.twofactor.models import PendingSetup, RecoveryCode, TotpDevice

broken = []
for account in Account.objects.all():
    device = TotpDevice.objects.filter(person=account.person).exists()
    codes = RecoveryCode.objects.filter(person=account.person).count()
    pending = PendingSetup.objects.filter(person=account.person).exists()
    if device and (pending or codes != 10):
        broken.append([account.username, device, codes, pending])
    if not device and codes:
        broken.append([account.username, device, codes, pending])
print(json.dumps(broken))
"""


def test_a_connection_dropped_mid_request_gives_503_and_the_next_request_works(
    fleet, accounts, database_url
):
    """The request waits for the person's row lock; then its backend is terminated."""
    instance = fleet.add(workers=1)  # one worker, so the next request meets the same process
    instance.start()
    try:
        instance.wait_ready()
        [account] = accounts(1)
        tab = Browser(instance.url)
        tab.password_step(account["username"], account["password"])

        with (
            psycopg.connect(database_url) as holder,
            psycopg.connect(database_url, autocommit=True) as admin,
        ):
            # The code step's first lock: the person's row (people.Person), the one lock of
            # its second factor.
            holder.execute(
                "SELECT p.id FROM people_person p JOIN accounts_account a "
                "ON a.person_id = p.id WHERE a.username = %s FOR UPDATE OF p",
                [account["username"]],
            )
            answer = []
            request = threading.Thread(target=lambda: answer.append(tab.code_step(code(account))))
            request.start()
            waiting = None
            deadline = time.monotonic() + 20
            while waiting is None and time.monotonic() < deadline:
                waiting = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                ).fetchone()
                time.sleep(0.02)
            assert waiting, "the request never waited for the row lock"
            admin.execute("SELECT pg_terminate_backend(%s)", [waiting[0]])
            request.join(30)
            holder.rollback()

        [dropped] = answer
        assert dropped.status_code == 503
        assert "Temporarily unavailable" in dropped.text
        assert dropped.headers["Retry-After"]

        # The next request works, on the same worker, and the code was not spent by the
        # request that died: its transaction was rolled back whole.
        tab.get("/login")
        r = tab.code_step(code(account))
        assert r.status_code == 302 and r.headers["Location"] == "/"
        assert tab.logged_in()
    finally:
        instance.stop()
        fleet.instances.remove(instance)
