"""Login and 2FA failures per hour over the last 24 hours, as data for an inline SVG."""

from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour

from adminpanel.audit.catalogue import Group, in_group
from adminpanel.audit.models import Event

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 720, 200, 16, 28, 32


def failures_per_hour(now: datetime, events: QuerySet[Event] | None = None) -> dict:
    """24 hourly buckets ending with the current hour, scaled to the chart's pixels, counted
    among `events` (default: all; the Logs page passes the ones its reader may see)."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=24)
    login_failures = in_group(Group.LOGIN_FAILURE)
    rows = (
        (Event.objects.all() if events is None else events)
        .filter(at__gte=start, at__lt=end, event__in=login_failures + in_group(Group.CODE_FAILURE))
        .order_by()  # grouped by hour and event alone
        .annotate(hour=TruncHour("at"))
        .values("hour", "event")
        .annotate(n=Count("id"))
    )
    logins, codes = [0] * 24, [0] * 24
    for row in rows:
        index = int((row["hour"] - start).total_seconds() // 3600)
        if 0 <= index < 24:
            (logins if row["event"] in login_failures else codes)[index] += row["n"]
    peak = max(logins + codes + [1])
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / 24
    bars = []
    for i in range(24):
        x = LEFT + i * slot
        for offset, value, kind in ((2, logins[i], "login"), (slot / 2, codes[i], "code")):
            h = round(plot * value / peak, 1)
            bars.append(
                {
                    "x": round(x + offset, 1),
                    "y": round(TOP + plot - h, 1),
                    "w": round(slot / 2 - 3, 1),
                    "h": h,
                    "kind": kind,
                    "value": value,
                    "hour": f"{(start + timedelta(hours=i)):%H}:00",
                }
            )
    labels = [
        {"x": round(LEFT + i * slot + slot / 2, 1), "text": f"{(start + timedelta(hours=i)):%H}"}
        for i in range(0, 24, 3)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "labels": labels,
        "peak": peak,
        "baseline": HEIGHT - BOTTOM,
        "left": LEFT,
        "top": TOP,
        "total_logins": sum(logins),
        "total_codes": sum(codes),
    }
