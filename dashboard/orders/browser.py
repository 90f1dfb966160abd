"""The admin's read-only browser over the order stream (OLAP side).

Django's ModelAdmin refuses models with a composite primary key, so this is an admin view of
its own. It stays fast on any size: pages are keyset ranges of (orderid, itemid) read in
descending order (newest orders first) from an index, and nothing ever counts the table.
"Newest" means the highest order ids, and the page says so: ids are what the index orders,
and order dates need not follow them (sample data dates each order at random in its range).
Item names are joined in where the page is drawn (dashboard.web's with_item_names tag):
the order side never reads the catalog.

Newest first is ORDER BY orderid DESC, itemid DESC LIMIT PAGE + 1, on both engines:
- PostgreSQL reads its primary key backwards (Index Scan Backward on orders_pkey).
- RisingWave cannot scan a primary key backwards, so `setup_olap` gives it a descending
  index whose key is that order exactly, orders_newest_first ON orders (orderid DESC,
  itemid DESC) (schema.CREATE_NEWEST_FIRST_INDEX). Verified in RisingWave v3.0.3's source:
  CREATE INDEX takes ASC/DESC per column (src/frontend/src/handler/create_index.rs,
  OrderType::from_bools, as ORDER BY does in src/frontend/src/binder/query.rs), and
  TopNOnIndexRule (src/frontend/src/optimizer/rule/top_n_on_index_rule.rs) reads a top-N from
  an index whose key order satisfies the ORDER BY, directions included, with the query's
  predicates (BatchTopN then becomes a limit per shard: optimizer/plan_node/batch_topn.rs;
  the planner test "topn on index with descending ordering" in src/frontend/planner_test/
  tests/testdata/output/index_selection.yaml shows BatchLimit over a BatchScan of the
  index). The index covers every column by default, so nothing is looked up after it.
  Ascending pages turned around are no substitute: an ascending read cannot start at the
  newest orders without knowing where they begin.

An older page is the lines before the last one shown, (orderid, itemid) < (last, item), in
the form each planner bounds its index scan with (older_than()). `orderid < last OR (orderid
= last AND itemid < item)` is neither: PostgreSQL scans backwards from the newest line,
filtering, down to the page; RisingWave splits it into two scan ranges, which it reads in no
particular order, so every line below the page is read to pick the top ones.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.dbrouter import OLAP
from dashboard.orders.engine import RISINGWAVE, known_engine
from dashboard.orders.errors import OlapUnavailable, olap_errors
from dashboard.orders.models import Order
from dashboard.us_states import state_choices

PAGE = 50
# (orderid, itemid, qty, price, dt, state): an order line as the browser lists it.
OrderRow = tuple[int, int, int | None, Decimal | None, date | None, str | None]


DATE_PICKER = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BrowseForm(forms.Form):
    q = forms.IntegerField(required=False, min_value=0, label="Order id")
    state = forms.ChoiceField(required=False, choices=[("", "All states"), *state_choices()])
    # The browser's date pickers: their value is an ISO date, whatever the locale shows.
    start = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="From", widget=DATE_PICKER)
    end = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="To", widget=DATE_PICKER)
    before = forms.RegexField(required=False, regex=r"^\d{1,19}-\d{1,10}$", widget=forms.HiddenInput)


@dataclass(frozen=True)
class Page:
    rows: list[OrderRow]
    next_before: str | None  # "orderid-itemid" of the last row, when there are more


# Newest first: the order of the primary key read backwards on PostgreSQL, and of
# orders_newest_first's key on RisingWave (schema.CREATE_NEWEST_FIRST_INDEX).
NEWEST_FIRST = ("-orderid", "-itemid")


def older_than(before: tuple[int, ...], engine: str) -> Q:
    """The order lines before the (orderid, itemid) key `before`, as one range of the index
    that `engine` reads newest-first pages from.

    PostgreSQL: a row comparison, which its B-tree takes as the Index Cond and estimates by
    orderid alone. RisingWave: `orderid <= last` (one scan range on the index's leading
    column, src/frontend/src/utils/condition.rs, split_to_scan_ranges; a single range keeps
    the index's order, batch_seq_scan.rs) and the rest as a filter within it. (RisingWave
    makes a scan range of a row comparison only when its right side is already a literal
    row, split_row_cmp_to_scan_ranges; whether `(20, 2)` against BIGINT and INT columns is
    folded into one first could not be confirmed without a server: not relied on.)
    PostgreSQL would take RisingWave's form too, but estimates its two conditions on orderid
    as independent, and near the oldest orders expects a handful of rows and sorts the range.
    """
    last_order, last_item = before
    if engine == RISINGWAVE:
        return Q(orderid__lte=last_order) & (Q(orderid__lt=last_order) | Q(itemid__lt=last_item))
    return Q(pk__lt=(last_order, last_item))


def page_query(
    *,
    orderid: int | None = None,
    state: str | None = None,
    start: date | None = None,
    end: date | None = None,
    before: tuple[int, ...] | None = None,
    engine: str | None = None,
) -> "QuerySet[Order, OrderRow]":
    """The query of a page: PAGE + 1 order lines (one more tells whether there are more),
    newest first, after the (orderid, itemid) key `before`, for `engine` (by default the OLAP
    server's)."""
    orders = Order.objects.all()
    if orderid is not None:
        orders = orders.filter(orderid=orderid)
    if state:
        orders = orders.filter(state=state)
    if start:
        orders = orders.filter(dt__gte=start)
    if end:
        orders = orders.filter(dt__lte=end)
    if before:
        orders = orders.filter(older_than(before, engine or known_engine(connections[OLAP])))
    return orders.order_by(*NEWEST_FIRST).values_list("orderid", "itemid", "qty", "price", "dt", "state")[
        : PAGE + 1
    ]


def order_page(
    *,
    orderid: int | None = None,
    state: str | None = None,
    start: date | None = None,
    end: date | None = None,
    before: tuple[int, ...] | None = None,
) -> Page:
    """Up to PAGE order lines, newest first, after the (orderid, itemid) key `before`."""
    rows = list(page_query(orderid=orderid, state=state, start=start, end=end, before=before))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return Page(rows, f"{rows[-1][0]}-{rows[-1][1]}" if more else None)


def browse_orders(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("dashboard.view_order"):
        raise PermissionDenied("You need the permission to view orders.")
    form = BrowseForm(request.GET or None)
    context = {**admin.site.each_context(request), "title": "Orders (OLAP, read-only)", "form": form}
    status = 200
    if form.is_bound and not form.is_valid():
        context["problem"] = "Check the fields marked below."
        status = 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        before = data.get("before")
        try:
            with olap_errors():
                context["page"] = order_page(
                    orderid=data.get("q"),
                    state=data.get("state") or None,
                    start=data.get("start"),
                    end=data.get("end"),
                    before=tuple(int(part) for part in before.split("-")) if before else None,
                )
        except OlapUnavailable as error:
            context["problem"], status = str(error), error.status
        query = request.GET.copy()
        query.pop("before", None)
        context["query"] = query.urlencode()
    return render(request, "admin/dashboard/order_browser.html", context, status=status)
