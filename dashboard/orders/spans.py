"""Spans of days: how a date range is read from a few pre-summed rows instead of a row a day.

A span is `days` days (a power of two, 1 to 2^22) starting on a day whose number, counted
from 0001-01-01, is a multiple of `days`: the spans of one size tile the calendar, and each
span of size 2d is two of size d. The span rollups (dashboard.orders.schema) hold a row per
key and span, so any range of days is the sum of at most two spans of each size: a 90-day
range and the one before it read about a dozen rows per item instead of 180.

Why spans rather than running totals (a range as the difference of two prefix sums): a
prefix sum changes for every later day when an old order is edited, and two writers that
add to it at once would need to see each other's rows; a span's row only ever has deltas
added to it, like every other rollup row, so concurrent writers stay safe and a late or
edited order touches one row per size.

Plain Python, imported by the schema (the SQL for a span's first day) and the selectors.
"""

import datetime

# Every size, smallest first: 2^22 days is more than the calendar holds (0001-01-01 to
# 9999-12-31 is 3,652,059 days), so one span covers any range at the top.
SPAN_DAYS = tuple(2**level for level in range(23))
EPOCH = datetime.date.min  # day number 0

# The first day of the span of `days` days that holds `dt`, in SQL both engines read (date -
# date is a whole number of days there, and date + integer a date; both RisingWave and
# PostgreSQL divide integers by truncation, and day numbers are never negative).
SPAN_START_SQL = "DATE '0001-01-01' + ({dt} - DATE '0001-01-01') / {days} * {days}"


def day_number(day: datetime.date) -> int:
    return day.toordinal() - EPOCH.toordinal()


def span_start(day: datetime.date, days: int) -> datetime.date:
    """The first day of the span of `days` days that holds `day`."""
    return datetime.date.fromordinal(day_number(day) // days * days + EPOCH.toordinal())


def spans_covering(first: datetime.date, last: datetime.date) -> list[tuple[datetime.date, int]]:
    """Spans, as (first day, days), that cover first..last (inclusive) exactly, in date
    order, at most two of each size: from each start, the largest span that starts there
    and ends in range (sizes grow, then shrink)."""
    spans = []
    start, end = day_number(first), day_number(last)
    while start <= end:
        days = SPAN_DAYS[-1]
        while start % days or start + days - 1 > end:
            days //= 2
        spans.append((datetime.date.fromordinal(start + EPOCH.toordinal()), days))
        start += days
    return spans
