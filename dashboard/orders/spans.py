"""Spans of days: how a date range is read from a few pre-summed rows instead of a row a day.

A span is `days` days (a power of eight, 1 to 8^8) starting on a day whose number, counted
from 0001-01-01, is a multiple of `days`: the spans of one length tile the calendar, and each
span of 8d days is eight of d. The span rollups (dashboard.orders.schema) hold a row per key
and span of 8 days or more; a 1-day span is the day rollups' row. Any range of days is the
sum of at most 14 spans of each length (7 at each end): a 90-day range and the one before
it read about 29 rows per item instead of 180.

Why powers of eight, and no 1-day spans stored: a delta to one day is a delta to every span
that holds it, one per length, and the capture adds each fold's deltas to all of them.
Powers of two, days included, read fewer rows (about 13 for the same two periods) but wrote
23 rows per (item, day) changed, which took a stream of 1,000-line transactions from 60k to
40-47k lines/s (docs/benchmarks.md). Powers of four read a third fewer spans for a 90-day
range and its period before, but that statement ran only 13% faster: summing the rows, not
finding them, is its cost.

Why spans rather than running totals (a range as the difference of two prefix sums): a
prefix sum changes for every later day when an old order is edited, and two writers that
add to it at once would need to see each other's rows; a span's row only ever has deltas
added to it, like every other rollup row, so concurrent writers stay safe and a late or
edited order touches one row per length.

Plain Python, imported by the schema (the SQL for a span's first day) and the selectors.
"""

import datetime

# Every length, shortest first: 8^8 days is more than the calendar holds (0001-01-01 to
# 9999-12-31 is 3,652,059 days), so one span covers any range at the top.
SPAN_BASE = 8
SPAN_DAYS = tuple(SPAN_BASE**level for level in range(9))
# The lengths the span rollups store: a 1-day span is a day rollup's row, read from there.
STORED_SPAN_DAYS = SPAN_DAYS[1:]
EPOCH = datetime.date.min  # day number 0

# The first day of the span of `days` days that holds `dt`, in SQL both engines read (date -
# date is a whole number of days there, and date + integer a date; both RisingWave and
# PostgreSQL divide integers by truncation, and day numbers are never negative).
_EPOCH_SQL = f"DATE '{EPOCH.isoformat()}'"
SPAN_START_SQL = f"{_EPOCH_SQL} + ({{dt}} - {_EPOCH_SQL}) / {{days}} * {{days}}"


def day_number(day: datetime.date) -> int:
    return day.toordinal() - EPOCH.toordinal()


def spans_covering(first: datetime.date, last: datetime.date) -> list[tuple[datetime.date, int]]:
    """Spans, as (first day, days), that cover first..last (inclusive) exactly, in date
    order, at most SPAN_BASE - 1 of each length at each end: from each start, the longest
    span that starts there and ends in range (lengths grow, then shrink)."""
    spans = []
    start, end = day_number(first), day_number(last)
    while start <= end:
        days = SPAN_DAYS[-1]
        while start % days or start + days - 1 > end:
            days //= SPAN_BASE
        spans.append((datetime.date.fromordinal(start + EPOCH.toordinal()), days))
        start += days
    return spans
