"""Orders in two periods of ten days, for tests of the comparison with the period just before:
March 1-10, 2026 against February 19-28, with a day on either side in neither."""

import datetime
from decimal import Decimal

D = datetime.date
CURRENT = {"start": "2026-03-01", "end": "2026-03-10"}  # 10 days: the previous is Feb 19-28
ROWS = [
    # The previous period: turnover 50 + 10 + 10 = 70.00, 3 orders, 3 lines; item 2 leads,
    # items 1 and 3 tie on turnover (so they rank by id).
    (1, 2, 5, Decimal("10.00"), D(2026, 2, 19), "CA"),
    (2, 1, 2, Decimal("5.00"), D(2026, 2, 28), "TX"),
    (3, 3, 1, Decimal("10.00"), D(2026, 2, 25), "TX"),
    (4, 1, 1, Decimal("1.00"), D(2026, 2, 18), "NY"),  # the day before: in neither period
    # The current period: turnover 60 + 30 + 1 + 9 = 100.00, 4 orders, 4 lines; item 4 is new,
    # item 2 falls behind.
    (10, 1, 3, Decimal("20.00"), D(2026, 3, 1), "CA"),
    (11, 4, 2, Decimal("15.00"), D(2026, 3, 10), "WA"),
    (12, 2, 1, Decimal("1.00"), D(2026, 3, 5), "CA"),
    (14, 1, 1, Decimal("9.00"), D(2026, 3, 3), "TX"),
    (13, 3, 1, Decimal("2.00"), D(2026, 3, 11), "CA"),  # the day after: in neither
]
