"""The trend's buckets, against a walk over every day of the range: bucket_starts lists the
buckets the days fall in, and bucket_for picks the narrowest that keeps to MAX_POINTS (it
counts them without listing them, as a year's trend is asked on every poll)."""

import datetime

from hypothesis import example, given
from hypothesis import strategies as st

from dashboard.orders.selectors import DAY, MAX_POINTS, MONTH, WEEK, bucket_for, bucket_start, bucket_starts

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)


def walked(start, end, bucket):
    """The bucket of each day from start to end, in order, each once."""
    starts, day = [], start
    while True:
        first = bucket_start(day, bucket)
        if not starts or starts[-1] != first:
            starts.append(first)
        if day == end:
            return starts
        day += ONE_DAY


def _span(start, days):
    """(start, the day `days` after it, or the calendar's last day if that comes first)."""
    return start, start + datetime.timedelta(days=min(days, (D.max - start).days))


# Ranges of up to 2,000 days anywhere in the calendar, its ends included.
ranges = st.builds(_span, st.dates(), st.integers(min_value=0, max_value=2000))


@given(ranges, st.sampled_from([DAY, WEEK, MONTH]))
@example((D(9999, 12, 1), D.max), MONTH)
@example((D(9999, 12, 27), D.max), WEEK)
@example((D.min, D(1, 1, 10)), WEEK)
def test_bucket_starts_are_the_buckets_of_the_days(span, bucket):
    start, end = span
    assert bucket_starts(start, end, bucket) == walked(start, end, bucket)


@given(ranges)
@example((D(2026, 1, 1), D(2026, 4, 30)))  # 120 days: days
@example((D(2026, 1, 1), D(2026, 5, 1)))  # 121 days: weeks
@example((D(2024, 1, 1), D(2026, 4, 19)))  # Monday to Sunday: 120 weeks
@example((D(2024, 1, 1), D(2026, 4, 20)))  # and one day more: 121 weeks, so months
@example((D(9990, 1, 1), D.max))
def test_the_bucket_is_the_narrowest_that_keeps_to_the_points(span):
    start, end = span
    narrowest = next((b for b in (DAY, WEEK) if len(walked(start, end, b)) <= MAX_POINTS), MONTH)
    assert bucket_for(start, end) == narrowest
