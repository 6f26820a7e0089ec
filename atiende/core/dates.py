"""Date ranges in the user's time zone, as bounds an index can use."""

import datetime

from django.utils import timezone


def day_start(day: datetime.date, days: int = 0) -> datetime.datetime:
    """Midnight of `day` (+ `days`) in the current time zone: filter with >= and < on it."""
    return timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=days), datetime.time.min)
    )
