"""The headline figures against sums done by hand over a few rows."""

import datetime
from decimal import Decimal

import pytest

from dashboard.orders.selectors import FROM_RAW, FROM_ROLLUPS, Headline, OrderFilters, headline
from tests.support.orders import insert_orders

pytestmark = pytest.mark.django_db(databases=["olap"])

D1, D2 = datetime.date(2026, 7, 1), datetime.date(2026, 7, 2)


@pytest.mark.parametrize("source", [FROM_ROLLUPS, FROM_RAW])
def test_no_orders_give_zeros_and_no_average(source):
    figures = headline(OrderFilters(), source)
    assert figures == Headline(turnover=Decimal("0.00"), orders=0, lines=0)
    assert figures.average_order_value is None


@pytest.mark.parametrize("source", [FROM_ROLLUPS, FROM_RAW])
def test_lines_without_a_known_value_count_as_lines_but_add_no_turnover(source):
    insert_orders(
        [
            (1, 1, 2, Decimal("3.10"), D1, "CA"),
            (1, 2, None, Decimal("9.00"), D1, "CA"),  # unknown qty
            (2, 1, 4, None, D2, "CA"),  # unknown price
            (3, 1, 1, Decimal("50.00"), D1, None),  # unknown state: outside the headline
        ]
    )
    figures = headline(OrderFilters(), source)
    # 2 * 3.10 over orders 1 and 2.
    assert figures == Headline(turnover=Decimal("6.20"), orders=2, lines=3)
    assert figures.average_order_value == Decimal("3.10")


@pytest.mark.parametrize("source", [FROM_ROLLUPS, FROM_RAW])
def test_filters_by_state_and_day_and_averages_to_the_cent(source):
    insert_orders(
        [
            (1, 1, 1, Decimal("10.00"), D1, "CA"),
            (2, 1, 1, Decimal("10.00"), D1, "CA"),
            (3, 1, 1, Decimal("0.01"), D1, "CA"),
            (4, 1, 1, Decimal("99.00"), D2, "CA"),
            (5, 1, 1, Decimal("7.00"), D1, "TX"),
        ]
    )
    figures = headline(OrderFilters(start=D1, end=D1, state="CA"), source)
    assert figures == Headline(turnover=Decimal("20.01"), orders=3, lines=3)
    assert figures.average_order_value == Decimal("6.67")  # 20.01 / 3
    assert headline(OrderFilters(state="TX"), source).turnover == Decimal("7.00")
