"""The Logs page and its CSV export (needs Logs: View)."""

import csv
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from adminpanel import clock
from adminpanel.audit.chart import failures_per_hour
from adminpanel.logs import selectors
from adminpanel.logs.forms import LogFilterForm
from adminpanel.pages import paginate_capped

# Past this many events the page says "more than" instead of counting a million rows.
COUNTED_EVENTS = 10_000
CSV_COLUMNS = ["time_utc", "actor", "event", "ip", "user_agent", "details"]


def _filtered(request: HttpRequest):
    """The filter form and the events it selects, newest first; invalid filters select none."""
    form = LogFilterForm(request.GET or None)
    events = selectors.events(request.user)  # Logs: View, checked before anything else
    if not form.is_bound:
        return form, events
    if not form.is_valid():
        return form, events.none()
    data = form.cleaned_data
    filters: dict = {"actor_name": data["actor"], "event": data["event"], "text": data["text"]}
    if data["since"]:
        filters["since"] = datetime.combine(data["since"], time.min, tzinfo=UTC)
    if data["until"] and data["until"] < date.max:  # "To" is inclusive: up to the next midnight
        filters["until"] = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=UTC)
    return form, selectors.events(request.user, **filters)


@login_required
def logs_view(request: HttpRequest) -> HttpResponse:
    form, events = _filtered(request)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": paginate_capped(request, events, COUNTED_EVENTS),
        "event_types": selectors.event_types(),
        "chart": failures_per_hour(clock.now(), selectors.events(request.user)),
        "query": query.urlencode(),
    }
    return render(request, "logs/logs.html", context, status=400 if form.errors else 200)


def _safe_cell(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; quote them."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def logs_csv_view(request: HttpRequest) -> HttpResponse:
    form, events = _filtered(request)
    if form.errors:
        problems = " ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponse(
            f"The filters are not valid: {problems}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for e in events.iterator(chunk_size=500):
            cells = [
                e.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                e.actor_name,
                e.event,
                e.ip,
                e.user_agent,
                _json(e.details),
            ]
            yield writer.writerow([_safe_cell(str(c)) for c in cells])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="adminpanel-logs-{stamp}.csv"'
    return response


def _json(details: dict) -> str:
    import json

    return json.dumps(details, ensure_ascii=False, sort_keys=True)
