"""SPEC §13: /healthz, /readyz, /metrics summed over workers, and JSON log lines."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from testbed.cluster import ADMIN_PASSWORD, Browser, make_accounts

PASSWORD = "Observed-Pebble-Orbit-7"


def metrics(panel, **headers) -> dict[tuple[str, tuple], float]:
    answer = requests.get(f"{panel.url}/metrics", headers=headers, timeout=30)
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(figures: dict, name: str, **labels) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_says_the_process_answers(panel):
    answer = requests.get(f"{panel.url}/healthz", timeout=30)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_answers_and_is_migrated(panel):
    answer = requests.get(f"{panel.url}/readyz", timeout=30)
    assert answer.status_code == 200 and answer.json() == {"status": "ready"}


def test_readyz_is_503_while_a_migration_is_missing(panel):
    forget = (
        "from django.db import connection\nwith connection.cursor() as c:\n"
        "    c.execute(\"DELETE FROM django_migrations WHERE app = 'audit'\")\nprint('[]')"
    )
    panel.django_json(forget)
    try:
        answer = requests.get(f"{panel.url}/readyz", timeout=30)
        assert answer.status_code == 503
        assert answer.json()["status"] == "migrations_pending"
    finally:
        panel.django(
            "from django.core.management import call_command\n"
            "call_command('migrate', 'audit', fake=True, verbosity=0)"
        )
    assert requests.get(f"{panel.url}/readyz", timeout=30).status_code == 200


def test_metrics_are_served_to_loopback_and_allowed_addresses_only(panel):
    assert requests.get(f"{panel.url}/metrics", timeout=30).status_code == 200
    # Through the trusted proxy (127.0.0.1) for a client outside: refused.
    outside = requests.get(
        f"{panel.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=30
    )
    assert outside.status_code == 403
    assert metrics(panel, **{"X-Forwarded-For": "198.51.100.7"})  # ADMINPANEL_METRICS_ALLOWED_IPS


def test_logins_by_outcome_add_up_over_both_workers(panel):
    before = metrics(panel)

    def right(_):
        return Browser(panel.url).password_step("admin", ADMIN_PASSWORD).status_code

    def wrong(n):
        tab = Browser(panel.url)
        tab.http.headers["X-Forwarded-For"] = f"192.0.2.{n + 1}"  # each from its own address
        return tab.password_step("admin", "not-the-password").status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(right, range(12))) == [302] * 12
        assert list(pool.map(wrong, range(3))) == [200] * 3
    after = metrics(panel)
    success = ("adminpanel_logins_total", {"channel": "web", "outcome": "success"})
    failed = ("adminpanel_logins_total", {"channel": "web", "outcome": "failed"})
    assert value(after, success[0], **success[1]) - value(before, success[0], **success[1]) == 12
    assert value(after, failed[0], **failed[1]) - value(before, failed[0], **failed[1]) == 3
    served = sum(
        v - value(before, name, **dict(labels))
        for (name, labels), v in after.items()
        if name == "adminpanel_http_requests_total"
    )
    # Three requests a login, two a refused one, and the first scrape: whichever worker served it.
    assert served == 12 * 3 + 3 * 2 + 1


def test_2fa_checks_are_counted_by_outcome_and_name_no_account(panel):
    (account,) = make_accounts(panel, ["metrics-mia"], password=PASSWORD)
    before = metrics(panel)
    tab = Browser(panel.url)
    assert tab.password_step("metrics-mia", PASSWORD).status_code == 302
    assert tab.code_step("000000").status_code == 200
    next_code = pyotp.TOTP(account["key"]).at(time.time() + 30)
    assert tab.code_step(next_code).status_code == 302
    after = metrics(panel)
    for outcome in ("refused", "accepted"):
        name, labels = "adminpanel_2fa_checks_total", {"outcome": outcome}
        assert value(after, name, **labels) - value(before, name, **labels) == 1
    text = requests.get(f"{panel.url}/metrics", timeout=30).text
    assert "metrics-mia" not in text and "admin" not in text.replace("adminpanel_", "")


@pytest.fixture(scope="module")
def logged_request(panel):
    """One logged-in request and the JSON lines the panel wrote about it."""
    tab = Browser(panel.url)
    tab.password_step("admin", ADMIN_PASSWORD)
    answer = tab.get("/")
    assert answer.status_code == 200
    request_id = answer.headers["X-Request-ID"]
    time.sleep(0.5)  # the worker writes its line after answering
    lines = [json.loads(x) for x in panel.log_path.read_text().splitlines() if x.startswith("{")]
    return request_id, lines


def test_each_request_is_one_json_line_with_its_request_id(logged_request):
    request_id, lines = logged_request
    (line,) = [x for x in lines if x.get("request_id") == request_id and x["type"] == "request"]
    assert line["method"] == "GET" and line["path"] == "/" and line["status"] == 200
    assert line["account"] == "admin" and line["ip"] == "127.0.0.1"
    assert line["duration_ms"] > 0 and line["time"].endswith("+00:00")


def test_each_audit_event_is_a_json_line_with_the_request_id_that_caused_it(logged_request):
    _, lines = logged_request
    events = [x for x in lines if x.get("type") == "event" and x["event"] == "web_login"]
    logins = [x for x in events if x["actor"] == "admin"]  # a password-only account
    assert logins and all(x["details"].get("two_factor") is False for x in logins)
    requests_by_id = {x["request_id"]: x for x in lines if x.get("type") == "request"}
    assert all(requests_by_id[x["request_id"]]["path"] == "/login" for x in logins)


def test_no_password_reaches_the_log(panel, logged_request):
    text = panel.log_path.read_text()
    assert ADMIN_PASSWORD not in text and PASSWORD not in text


def test_a_code_throttle_is_counted_once_and_each_answer_refused_during_it(panel):
    (account,) = make_accounts(panel, ["metrics-max"], password=PASSWORD)
    before = metrics(panel)
    tab = Browser(panel.url)
    assert tab.password_step("metrics-max", PASSWORD).status_code == 302
    for _ in range(5):  # the fifth failure starts a wait
        tab.code_step("000000")
    tab.code_step(pyotp.TOTP(account["key"]).at(time.time() + 30))  # refused unchecked
    after = metrics(panel)

    def grew(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("adminpanel_throttles_total", kind="code") == 2  # the wait, the refusal in it
    assert grew("adminpanel_2fa_checks_total", outcome="refused") == 5
    assert grew("adminpanel_2fa_checks_total", outcome="throttled") == 1
    assert grew("adminpanel_2fa_checks_total", outcome="accepted") == 0
