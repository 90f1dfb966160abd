"""The spans of days a date range is read as (dashboard/orders/spans.py), against a walk over
every day: they tile the range exactly, each is aligned to its size, and there are at most
two of a size."""

import datetime
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from dashboard.orders.spans import SPAN_DAYS, span_start, spans_covering

ONE_DAY = datetime.timedelta(days=1)
# Near the calendar's ends too: day numbers there are the extremes of the SQL arithmetic.
DAYS = st.dates(min_value=datetime.date.min, max_value=datetime.date.max)


def days_of(spans):
    return [first + ONE_DAY * offset for first, days in spans for offset in range(days)]


@given(DAYS, st.integers(min_value=0, max_value=5000))
def test_spans_tile_the_range_each_aligned_and_at_most_two_of_a_size(first, length):
    last = min(first + ONE_DAY * length, datetime.date.max)
    spans = spans_covering(first, last)
    days = days_of(spans)
    assert days == [first + ONE_DAY * offset for offset in range((last - first).days + 1)]
    for start, size in spans:
        assert size in SPAN_DAYS
        assert (start - datetime.date.min).days % size == 0
    assert max(Counter(size for _, size in spans).values()) <= 2


def test_the_whole_calendar_and_one_day():
    whole = spans_covering(datetime.date.min, datetime.date.max)
    assert whole[0][0] == datetime.date.min
    ends = [start.toordinal() + size for start, size in whole]  # the day after each span
    assert [start.toordinal() for start, _ in whole[1:]] == ends[:-1]
    assert ends[-1] == datetime.date.max.toordinal() + 1
    assert len(whole) <= 2 * len(SPAN_DAYS)
    day = datetime.date(2026, 4, 1)
    assert spans_covering(day, day) == [(day, 1)]
    assert spans_covering(day, day - ONE_DAY) == []


def test_a_90_day_range_is_read_as_a_few_spans():
    # 2026-01-10 is day 739,625 (0001-01-01 is day 0): 739,625 = 1 (mod 2), 739,626 = 2 (mod 4) ...
    spans = spans_covering(datetime.date(2026, 1, 10), datetime.date(2026, 4, 9))
    assert spans == [
        (datetime.date(2026, 1, 10), 1),
        (datetime.date(2026, 1, 11), 2),
        (datetime.date(2026, 1, 13), 4),
        (datetime.date(2026, 1, 17), 16),
        (datetime.date(2026, 2, 2), 64),
        (datetime.date(2026, 4, 7), 2),
        (datetime.date(2026, 4, 9), 1),
    ]


@given(DAYS, st.sampled_from(SPAN_DAYS))
def test_a_day_lies_in_the_span_that_starts_at_span_start(day, size):
    start = span_start(day, size)
    assert start <= day
    assert (day - start).days < size
    assert (start - datetime.date.min).days % size == 0
