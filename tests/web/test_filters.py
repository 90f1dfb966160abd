"""Reading the filters from a query string (dashboard.web.filters): a query without any filter
is the default view, without building the form, and says the same as the form would."""

from datetime import date

import pytest
from django.http import QueryDict

from dashboard.orders.selectors import ALL_ORDERS, OrderFilters
from dashboard.web import filters
from dashboard.web.filters import FilterForm, InvalidFilters, parse_filters

pytestmark = pytest.mark.django_db(databases=["default", "olap"])


def form_says(query):
    form = FilterForm(QueryDict(query))
    assert form.is_valid(), form.errors
    return OrderFilters(**form.cleaned_data)


@pytest.mark.parametrize("query", ["", "refresh=1", "_=1733540000000&format=json"])
def test_a_query_without_filters_is_all_orders_without_a_form(monkeypatch, query):
    built = []
    monkeypatch.setattr(filters, "FilterForm", lambda data: built.append(data))
    assert parse_filters(QueryDict(query)) == ALL_ORDERS == form_says(query)
    assert built == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("start=", ALL_ORDERS),  # present but empty: read by the form, still all orders
        ("state=ca&refresh=1", OrderFilters(state="CA")),
        ("end=2026-03-31", OrderFilters(end=date(2026, 3, 31))),
    ],
)
def test_a_query_with_a_filter_field_is_read_by_the_form(query, expected):
    assert parse_filters(QueryDict(query)) == expected == form_says(query)


def test_a_bad_filter_beside_others_still_answers_its_error():
    with pytest.raises(InvalidFilters, match="start: must be a date like 2026-01-31"):
        parse_filters(QueryDict("refresh=1&start=yesterday"))
