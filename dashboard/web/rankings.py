"""The four rankings as the dashboard shows them: titles, headings, and a label for each key.

The order side answers which keys rank where (dashboard.orders.selectors); the catalog names
the items (dashboard.catalog.selectors). They live in different databases, so they are
joined here, in Python, with one catalog lookup for every item ranking.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.catalog.selectors import CatalogUnavailable, item_label, item_names
from dashboard.orders.selectors import (
    ALL_ORDERS,
    FROM_ROLLUPS,
    RANKING_NAMES,
    RANKINGS,
    Figures,
    Key,
    OrderFilters,
    Value,
    figures,
    shop_item_titles,
    shop_names_items,
)
from dashboard.us_states import state_name

UNNAMED_NOTICE = "Item names can't be read from the catalog right now: items show by their id."


@dataclass(frozen=True)
class Entry:
    key: str | int
    label: str
    value: Value
    # Its 1-based place in the whole ranking of the period of the same length just before;
    # None when it had no rows then, or there is no such period (all time).
    previous_rank: int | None = None


@dataclass(frozen=True)
class Ranking:
    name: str
    title: str
    key_heading: str
    value_heading: str
    kind: str
    entries: list[Entry]
    # True when the catalog could not be read: items are labelled by id ("Item 42").
    unnamed: bool = False


@dataclass(frozen=True)
class Headings:
    title: str
    key: str
    value: str


HEADINGS = {
    "states_by_turnover": Headings("States by turnover", "State", "Turnover"),
    "items_by_avg_qty": Headings("Items by average quantity", "Item", "Average quantity per order line"),
    "items_by_total_qty": Headings("Items by total quantity", "Item", "Total quantity"),
    "items_by_turnover": Headings("Items by turnover", "Item", "Turnover"),
}


def _ranking(name: str, entries: list[Entry], unnamed: bool = False) -> Ranking:
    headings = HEADINGS[name]
    return Ranking(name, headings.title, headings.key, headings.value, RANKINGS[name].kind, entries, unnamed)


def rankings(
    names: Iterable[str], filters: OrderFilters = ALL_ORDERS, source: str = FROM_ROLLUPS
) -> list[Ranking]:
    """The named rankings, labelled, in the order given; with a range of both ends, each
    entry with its place in the period just before."""
    return labelled(figures(filters, source, names))


def labelled(found: Figures) -> list[Ranking]:
    """The rankings of `found`, each key labelled, in its order."""
    ranked, places = found.top, found.previous_places
    # The catalog lives in another database: one lookup labels every item ranking. With the
    # catalog down the figures still show, their items by id. A mapped shop names its items
    # itself: the current titles of its products, captured with its orders.
    items = [int(key) for name, rows in ranked.items() if RANKINGS[name].key == "itemid" for key, _ in rows]
    names_of_items: dict[int, str]
    if not items:
        names_of_items, unnamed = {}, False  # nothing to label: no lookup
    elif shop_names_items():
        names_of_items, unnamed = shop_item_titles(items), False
    else:
        try:
            names_of_items, unnamed = item_names(items), False
        except CatalogUnavailable:
            names_of_items, unnamed = {}, True

    def label(name: str, key: Key) -> str:
        return state_name(str(key)) if RANKINGS[name].key == "state" else item_label(int(key), names_of_items)

    return [
        _ranking(
            name,
            [Entry(key, label(name, key), value, places.get(name, {}).get(key)) for key, value in rows],
            unnamed,
        )
        for name, rows in ranked.items()
    ]


def all_rankings(filters: OrderFilters = ALL_ORDERS, source: str = FROM_ROLLUPS) -> list[Ranking]:
    """The four rankings, in the order the dashboard shows them."""
    return rankings(RANKING_NAMES, filters, source)


def empty_rankings() -> list[Ranking]:
    """The four rankings with no entries: the page's frame when the figures can't be had."""
    return [_ranking(name, []) for name in RANKING_NAMES]
