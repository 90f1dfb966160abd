"""The spans of days a date range is read as (dashboard/orders/spans.py), against a walk over
every day: they tile the range exactly, each is aligned to its length, and there are at most
seven of a length at each end."""

import datetime
from collections import Counter

from hypothesis import example, given
from hypothesis import strategies as st

from dashboard.orders.spans import SPAN_BASE, SPAN_DAYS, spans_covering

ONE_DAY = datetime.timedelta(days=1)
# Near the calendar's ends too: day numbers there are the extremes of the SQL arithmetic.
DAYS = st.dates(min_value=datetime.date.min, max_value=datetime.date.max)


def days_of(spans):
    return [first + ONE_DAY * offset for first, days in spans for offset in range(days)]


@given(DAYS, st.integers(min_value=0, max_value=5000))
@example(datetime.date(9990, 5, 1), 3532)  # a range that would run past the calendar's end
def test_spans_tile_the_range_each_aligned_and_at_most_seven_of_a_length_at_each_end(first, length):
    last = first + ONE_DAY * min(length, (datetime.date.max - first).days)  # no day past the calendar
    spans = spans_covering(first, last)
    days = days_of(spans)
    assert days == [first + ONE_DAY * offset for offset in range((last - first).days + 1)]
    for start, size in spans:
        assert size in SPAN_DAYS
        assert (start - datetime.date.min).days % size == 0
    assert max(Counter(size for _, size in spans).values()) <= 2 * (SPAN_BASE - 1)
    # Lengths grow, then shrink: never a shorter one between two longer ones.
    sizes = [size for _, size in spans]
    peak = sizes.index(max(sizes))
    assert sizes[:peak] == sorted(sizes[:peak]) and sizes[peak:] == sorted(sizes[peak:], reverse=True)


def test_the_whole_calendar_and_one_day():
    whole = spans_covering(datetime.date.min, datetime.date.max)
    assert whole[0][0] == datetime.date.min
    ends = [start.toordinal() + size for start, size in whole]  # the day after each span
    assert [start.toordinal() for start, _ in whole[1:]] == ends[:-1]
    assert ends[-1] == datetime.date.max.toordinal() + 1
    assert len(whole) <= 2 * (SPAN_BASE - 1) * len(SPAN_DAYS)
    day = datetime.date(2026, 4, 1)
    assert spans_covering(day, day) == [(day, 1)]
    assert spans_covering(day, day - ONE_DAY) == []


def test_a_90_day_range_is_read_as_a_few_spans():
    # 2026-01-10 is day 739,625 (0001-01-01 is day 0): 1 past a multiple of 8, so seven
    # single days reach 739,632 (48 past a multiple of 64), two 8-day spans reach 739,648,
    # one 64-day span reaches 739,712 (April 7), and three single days end the range.
    day = datetime.date(2026, 1, 10)
    assert day.toordinal() - 1 == 739_625
    spans = spans_covering(day, datetime.date(2026, 4, 9))
    assert spans == [
        *((day + ONE_DAY * offset, 1) for offset in range(7)),
        (datetime.date(2026, 1, 17), 8),
        (datetime.date(2026, 1, 25), 8),
        (datetime.date(2026, 2, 2), 64),
        *((datetime.date(2026, 4, 7) + ONE_DAY * offset, 1) for offset in range(3)),
    ]
