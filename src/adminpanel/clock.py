"""The one source of time, so tests can move it."""

import math
from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def minutes(seconds: float) -> str:
    """A wait in words, rounded up to whole minutes: "1 minute", "15 minutes"."""
    n = max(1, math.ceil(seconds / 60))
    return f"{n} minute" if n == 1 else f"{n} minutes"
