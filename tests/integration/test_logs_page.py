"""SPEC §8: the Logs page (Logs: View): newest first, filters by date, actor and event, a CSV
export of the filtered view, and a chart of login and 2FA failures per hour over 24 hours.
"""

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from adminpanel import audit
from adminpanel.accounts.models import Level
from adminpanel.audit.catalogue import AuditEvent
from adminpanel.logs import views as logs_views
from tests.integration.panel import log_in_admin, make_subadmin, signed_in, text

pytestmark = pytest.mark.django_db

MARCH_2 = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(admin):
    return log_in_admin()


@pytest.fixture
def three_days(clock, client):
    """domain_created by bob on 1 March, user_created by carol on 2 March, bob again on 3 March
    (all after the Admin's own login, which happened today)."""
    for day, actor, event in (
        (1, "bob", AuditEvent.DOMAIN_CREATED),
        (2, "carol", AuditEvent.MAILBOX_CREATED),
    ):
        clock.set(datetime(2024, 3, day, 9, 30, tzinfo=UTC))
        audit.record(event, actor_name=actor, domain=f"day{day}.example")
    clock.set(datetime(2024, 3, 3, 23, 59, 59, tzinfo=UTC))
    audit.record(AuditEvent.DOMAIN_DELETED, actor_name="bob", domain="day3.example")
    return client


def rows(response) -> list[tuple[str, str, str]]:
    """(time, actor, event) of each row of the table, top to bottom."""
    found = re.findall(
        r'<time datetime="[^"]+">([^<]+)</time></td>\s*<td[^>]*>([^<]*)</td>\s*'
        r"<td[^>]*>[^<]*<code[^>]*>([^<]+)</code>",  # the event's words, then its name
        text(response),
    )
    assert found or "No events match." in text(response)
    return found


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="adminpanel-logs-')
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- the page --------------------------------------------------------------------------------


def test_events_are_listed_newest_first(three_days):
    listed = rows(three_days.get("/logs", {"since": "2024-03-01", "until": "2024-03-03"}))
    assert listed == [
        ("2024-03-03 23:59:59", "bob", "domain_deleted"),
        ("2024-03-02 09:30:00", "carol", "mailbox_created"),
        ("2024-03-01 09:30:00", "bob", "domain_created"),
    ]


def test_the_date_range_includes_both_days(three_days):
    listed = rows(three_days.get("/logs", {"since": "2024-03-02", "until": "2024-03-03"}))
    assert [event for _, _, event in listed] == ["domain_deleted", "mailbox_created"]


def test_a_range_of_one_day_shows_that_day(three_days):
    listed = rows(three_days.get("/logs", {"since": "2024-03-02", "until": "2024-03-02"}))
    assert [event for _, _, event in listed] == ["mailbox_created"]


def test_the_actor_filter_ignores_case(three_days):
    listed = rows(three_days.get("/logs", {"actor": "BOB"}))
    assert [event for _, _, event in listed] == ["domain_deleted", "domain_created"]


def test_the_event_filter_shows_one_kind(three_days):
    listed = rows(three_days.get("/logs", {"event": "domain_created"}))
    assert listed == [("2024-03-01 09:30:00", "bob", "domain_created")]


def test_the_event_filter_offers_every_kind_of_event_in_peoples_words(three_days):
    page = text(three_days.get("/logs"))
    offered = {
        "domain_created": "Domain added",
        "mailbox_created": "Mailbox added",
        "domain_deleted": "Domain deleted",
        "web_login": "Signed in",
    }
    for kind, words in offered.items():  # in people's words (issue 11)
        assert f'<option value="{kind}">{words}</option>' in page


def test_filters_combine(three_days):
    query = {"actor": "bob", "since": "2024-03-02", "until": "2024-03-03"}
    assert [e for _, _, e in rows(three_days.get("/logs", query))] == ["domain_deleted"]


def test_from_after_to_gets_a_message_and_shows_nothing(three_days):
    response = three_days.get("/logs", {"since": "2024-03-03", "until": "2024-03-01"})
    assert response.status_code == 400
    assert "“From” must be on or before “To”." in text(response)
    assert rows(response) == []


@pytest.mark.parametrize("since", ["2024-13-45", "yesterday", "0000-01-01", "x" * 5000])
def test_a_malformed_date_gets_a_message_by_the_field(three_days, since):
    response = three_days.get("/logs", {"since": since})
    assert response.status_code == 400
    assert "Enter a valid date." in text(response)
    assert rows(response) == []


@pytest.mark.parametrize(("since", "until"), [("0001-01-01", "9999-12-31"), ("9999-12-31", "")])
def test_dates_at_the_ends_of_the_calendar_are_no_error(three_days, since, until):
    response = three_days.get("/logs", {"since": since, "until": until})
    assert response.status_code == 200


def test_an_overlong_actor_is_refused_by_its_field(three_days):
    response = three_days.get("/logs", {"actor": "a" * 10_000})
    assert response.status_code == 400
    assert "at most 150 characters" in text(response)


def test_the_next_page_keeps_the_filters(clock, client):
    for n in range(30):
        audit.record(AuditEvent.DOMAIN_CREATED, actor_name="bob", n=n)
    page = text(client.get("/logs", {"actor": "bob"}))
    assert "30 events" in page and "Page 1 of 2" in page
    assert 'href="?actor=bob&page=2"' in page


def test_past_the_counted_events_the_page_says_more_than_and_still_pages_on(
    clock, client, monkeypatch
):
    # A million events are not counted on every view (issue 20): past the cap, "more than".
    monkeypatch.setattr(logs_views, "COUNTED_EVENTS", 30)
    for n in range(60):
        audit.record(AuditEvent.DOMAIN_CREATED, actor_name="bob", domain=f"d{n}.example")
    first = text(client.get("/logs", {"actor": "bob"}))
    assert "More than 30 events, newest first" in first
    assert "Page 1<" in first and "Page 1 of" not in first
    assert 'href="?actor=bob&page=2"' in first
    third = client.get("/logs", {"actor": "bob", "page": "3"})
    assert len(rows(third)) == 10  # 60 events: the third page holds the oldest ten
    assert 'rel="next"' not in text(third)
    assert 'href="?actor=bob&page=2"' in text(third)
    fewer = text(client.get("/logs", {"actor": "bob", "since": "2000-01-01", "event": "x"}))
    assert "0 events, newest first" in fewer


def test_markup_in_the_log_is_shown_as_text(client):
    audit.record(
        AuditEvent.WEB_LOGIN_FAILED, actor_name="<script>alert(1)</script>", note="<b>x</b>"
    )
    page = client.get("/logs").content.decode()
    assert "<script>alert(1)</script>" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_logs_need_logs_view(admin):
    make_subadmin(admin, "bob", levels={"logs": Level.NONE})
    make_subadmin(admin, "carol", levels={"logs": Level.VIEW})
    bob, carol = signed_in("bob"), signed_in("carol")
    assert bob.get("/logs").status_code == 403 and bob.get("/logs.csv").status_code == 403
    assert carol.get("/logs").status_code == 200 and carol.get("/logs.csv").status_code == 200


# --- CSV export ------------------------------------------------------------------------------


def test_the_csv_export_has_a_header_row_and_the_filtered_events(three_days):
    table = csv_rows(three_days.get("/logs.csv", {"actor": "bob"}))
    assert table[0] == ["time_utc", "actor", "event", "ip", "user_agent", "details"]
    assert [(r[0], r[1], r[2]) for r in table[1:]] == [
        ("2024-03-03T23:59:59Z", "bob", "domain_deleted"),
        ("2024-03-01T09:30:00Z", "bob", "domain_created"),
    ]
    assert table[1][5] == '{"domain": "day3.example"}'


def test_the_page_links_the_csv_of_its_own_filters(three_days):
    page = text(three_days.get("/logs", {"actor": "bob", "event": "domain_created"}))
    assert 'href="/logs.csv?actor=bob&event=domain_created"' in page


def test_the_csv_export_with_malformed_filters_exports_nothing(three_days):
    response = three_days.get("/logs.csv", {"since": "2024-03-03", "until": "2024-03-01"})
    assert response.status_code == 400
    assert b"2024-03" not in b"".join(getattr(response, "streaming_content", [response.content]))


@pytest.mark.parametrize(
    "dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(client, dangerous):
    audit.record(AuditEvent.WEB_LOGIN_FAILED, actor_name=dangerous)
    table = csv_rows(client.get("/logs.csv", {"event": "web_login_failed"}))
    assert table[1][1] == "'" + dangerous


def test_csv_keeps_other_scripts_and_commas_intact(client):
    audit.record(AuditEvent.DOMAIN_CREATED, actor_name="bob", domain="bücher.example, пример.рф")
    table = csv_rows(client.get("/logs.csv", {"event": "domain_created"}))
    assert table[1][5] == '{"domain": "bücher.example, пример.рф"}'


# --- the chart of failures -------------------------------------------------------------------


def test_the_chart_is_an_image_with_a_name_and_a_description(client):
    page = text(client.get("/logs"))
    svg = re.search(r"<svg[^>]*>", page).group(0)
    assert 'role="img"' in svg
    title = re.search(r'aria-labelledby="([^"]+)"', svg).group(1)
    assert f'id="{title}">Failures per hour, last 24 hours<' in page


def test_the_chart_counts_login_and_2fa_failures_of_the_last_24_hours(clock, client):
    clock.set(MARCH_2)
    for _ in range(3):
        audit.record(AuditEvent.WEB_LOGIN_FAILED, actor_name="mallory")
    audit.record(AuditEvent.API_LOGIN_FAILED, actor_name="mallory")
    audit.record(AuditEvent.TWO_FACTOR_FAILED, actor_name="bob")
    clock.advance(hours=-25)
    audit.record(AuditEvent.WEB_LOGIN_FAILED, actor_name="old")  # outside the 24 hours
    clock.set(MARCH_2)
    page = text(client.get("/logs"))
    assert "4 login failures and 1 2FA failures in the last 24 hours" in page
    assert "12:00: 4 login failures" in page and "12:00: 1 2FA failure" in page


def test_the_chart_of_a_quiet_day_has_no_bars(clock, client):
    clock.set(MARCH_2)
    page = text(client.get("/logs"))
    assert "0 login failures and 0 2FA failures" in page
    assert '<rect x="' not in page


def test_the_logs_pages_are_reachable_above_and_below_the_list(client):
    """Issue 21 item 12: on a phone 25 stacked events are long: Older / Newer above them too."""
    for n in range(30):
        audit.record(AuditEvent.DOMAIN_CREATED, actor_name="bob", domain=f"d{n}.example")
    page = text(client.get("/logs"))
    assert page.count('<nav class="pagination"') == 2
    assert page.count("Page 1 of 2") == 2
    top = page.index('<nav class="pagination"')
    assert top < page.index("<table") < page.rindex('<nav class="pagination"')
    assert page.count("Older<span") == 2
