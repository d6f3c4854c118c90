"""The Prometheus metrics (SPEC §13), summed over every worker of `adminpanel serve`.

`adminpanel serve` points PROMETHEUS_MULTIPROC_DIR at a private directory (emptied at each
start) before the workers import this module, so each worker counts into its own files and
a scrape adds them up. Labels hold only fixed words (event names, outcomes, statuses), never
an account name, an address or anything typed by a client.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from adminpanel.audit.catalogue import LOGIN_EVENTS, AuditEvent

REQUESTS = Counter(
    "adminpanel_http_requests_total",
    "HTTP requests answered, by method and status",
    ["method", "status"],
)
DURATION = Histogram(
    "adminpanel_http_request_duration_seconds", "Time from request to answer, by method", ["method"]
)
LOGINS = Counter(
    "adminpanel_logins_total",
    "Password steps of logins, by channel (web, api) and outcome",
    ["channel", "outcome"],
)
CODE_CHECKS = Counter(
    "adminpanel_2fa_checks_total",
    "Second-factor answers, by outcome: accepted (a login passed its second step), refused,"
    " recovery_code (one was used), throttled (refused unchecked during a wait)",
    ["outcome"],
)
THROTTLES = Counter(
    "adminpanel_throttles_total",
    "Throttle events by kind (password, code): a wait begun, or an attempt refused during one",
    ["kind"],
)
EVENTS = Counter("adminpanel_audit_events_total", "Audit log events, by event name", ["event"])

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# Each password-step event as the (channel, outcome) labels of LOGINS.
LOGIN_OUTCOMES = {
    event: (channel, outcome)
    for channel, events in LOGIN_EVENTS.items()
    for event, outcome in (
        (events.succeeded, "success"),
        (events.failed, "failed"),
        (events.refused, "refused"),
        (events.throttled, "throttled"),
    )
}


def observe_request(method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    REQUESTS.labels(method, str(status)).inc()
    DURATION.labels(method).observe(seconds)


def observe_event(event: str, details: dict) -> None:
    """Count one committed audit event; names come from the audit log's own catalogue."""
    EVENTS.labels(event).inc()
    login = LOGIN_OUTCOMES.get(event)
    if login is not None:
        channel, outcome = login
        LOGINS.labels(channel, outcome).inc()
        if outcome == "throttled":
            THROTTLES.labels("password").inc()
        if outcome == "success" and details.get("two_factor"):
            CODE_CHECKS.labels("accepted").inc()
    elif event == AuditEvent.TWO_FACTOR_FAILED:
        CODE_CHECKS.labels("refused").inc()
    elif event == AuditEvent.TWO_FACTOR_RECOVERY_CODE_USED:
        CODE_CHECKS.labels("recovery_code").inc()
    elif event == AuditEvent.TWO_FACTOR_THROTTLED:
        THROTTLES.labels("code").inc()  # a wait begins, or an answer is refused during one
        if details.get("refused_unchecked"):
            CODE_CHECKS.labels("throttled").inc()


def exposition() -> tuple[bytes, str]:
    """The text format of every metric, summed over all workers when there are several."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
