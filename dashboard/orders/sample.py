"""Realistic sample orders, generated as numpy columns (no Python object per order line).

Data is a pure function of its arguments: orders are produced in fixed-size chunks, each
with a random generator seeded from (seed, chunk number), so the same arguments always give
the same rows. Each seed owns its own range of order ids, so different seeds never collide.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from faker import Faker

from dashboard.orders.loading import OrderLines
from dashboard.us_states import STATES

ORDERS_PER_CHUNK = 50_000
MAX_LINES_PER_ORDER = 5
SEED_LIMIT = 2**31 - 1  # seed * IDS_PER_SEED must stay inside BIGINT
IDS_PER_SEED = 2**32
CATALOG_SEED = 0  # the catalog is the same whatever the order seed, so names stay put
BULK_STREAM, LIVE_STREAM = 0, 1  # independent random streams for bulk loads and --follow

_MATERIALS = (
    "Bamboo", "Canvas", "Ceramic", "Cotton", "Cork", "Glass", "Leather", "Linen", "Maple",
    "Oak", "Recycled", "Steel", "Stoneware", "Walnut", "Wool",
)  # fmt: skip
_PRODUCTS = (
    "Backpack", "Bookshelf", "Bottle", "Candle", "Chair", "Coaster Set", "Cutting Board",
    "Desk Lamp", "Doormat", "Duvet Cover", "Headphones Stand", "Jacket", "Journal", "Kettle",
    "Lunch Box", "Mug", "Notebook", "Picture Frame", "Pillow", "Planter", "Rug", "Scarf",
    "Serving Bowl", "Sneakers", "Stool", "Teapot", "Throw Blanket", "Tote Bag", "Tray",
    "Umbrella", "Vase", "Wall Clock", "Wallet", "Watch", "Wine Rack",
)  # fmt: skip


@dataclass(frozen=True)
class Catalog:
    itemids: np.ndarray  # int32
    names: list[str]
    price_cents: np.ndarray  # int64, list price
    popularity: np.ndarray  # float64 weights summing to 1
    qty_p: np.ndarray  # float64: parameter of each item's geometric quantity distribution


def make_catalog(items: int) -> Catalog:
    """`items` catalog entries with Faker names and prices (independent of the order seed)."""
    fake = Faker("en_US")
    fake.seed_instance(CATALOG_SEED)
    rng = np.random.default_rng(CATALOG_SEED)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < items:
        colour = fake.safe_color_name().title()
        name = f"{colour} {fake.random_element(_MATERIALS)} {fake.random_element(_PRODUCTS)}"
        if name in seen:
            name = f"{name} {fake.random_int(2, 999)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    prices = [fake.pydecimal(left_digits=3, right_digits=2, min_value=2, max_value=400) for _ in range(items)]
    # A few best sellers and a long tail, like real shops.
    popularity = 1.0 / np.arange(1, items + 1) ** 0.8
    rng.shuffle(popularity)
    return Catalog(
        itemids=np.arange(1, items + 1, dtype=np.int32),
        names=names,
        price_cents=np.array([int(price * 100) for price in prices], dtype=np.int64),
        popularity=popularity / popularity.sum(),
        # Some items sell one at a time (furniture), others by the handful (candles).
        qty_p=rng.uniform(0.25, 0.9, size=items),
    )


def seed_id_range(seed: int) -> tuple[int, int]:
    """The half-open range of order ids that belongs to `seed`: loading it replaces all of it."""
    return seed * IDS_PER_SEED, (seed + 1) * IDS_PER_SEED


_STATE_CODES = np.array(list(STATES), dtype="S2")
_STATE_WEIGHTS = np.array([population for _, population in STATES.values()], dtype=np.float64)
_STATE_WEIGHTS /= _STATE_WEIGHTS.sum()


def _chunk(
    rng: np.random.Generator, first_orderid: int, count: int, catalog: Catalog, end_date: date, days: int
) -> OrderLines:
    items = len(catalog.itemids)
    max_lines = min(MAX_LINES_PER_ORDER, items)

    lines_per_order = rng.integers(1, max_lines + 1, size=count)
    total = int(lines_per_order.sum())
    order_of_line = np.repeat(np.arange(count), lines_per_order)
    line_no = np.arange(total) - np.repeat(np.cumsum(lines_per_order) - lines_per_order, lines_per_order)

    # The items of one order are distinct (orderid, itemid is the key): walk from a popular
    # first item in strides short enough never to wrap around onto it.
    first_item = rng.choice(items, size=count, p=catalog.popularity)
    stride = rng.integers(1, items // max_lines + 1, size=count)
    # Each order's lines in item order, so the lines arrive in key order and the loader's
    # build of the key finds them sorted. The walk wraps around past the last item at most
    # once: its steps from the wrap on hold the order's lowest items, so they come first.
    before_wrap = np.minimum(-((first_item - items) // stride), lines_per_order)  # ceil division
    step = (line_no + before_wrap[order_of_line]) % lines_per_order[order_of_line]
    item = (first_item[order_of_line] + step * stride[order_of_line]) % items

    qty = np.minimum(rng.geometric(catalog.qty_p[item]), 50).astype(np.int32)
    list_cents = catalog.price_cents[item]
    discounted = rng.random(total) < 0.15  # 15% of lines at 10% off, rounded down to a cent
    price_cents = np.where(discounted, list_cents - list_cents // 10, list_cents)

    day_offset = rng.integers(0, days, size=count)
    dt = np.datetime64(end_date, "D") - day_offset.astype("timedelta64[D]")
    state = rng.choice(_STATE_CODES, size=count, p=_STATE_WEIGHTS)

    return OrderLines(
        orderid=(first_orderid + order_of_line).astype(np.int64),
        itemid=catalog.itemids[item],
        qty=qty,
        price_cents=price_cents,
        dt=dt[order_of_line],
        state=state[order_of_line],
    )


def generate(seed: int, orders: int, catalog: Catalog, end_date: date, days: int) -> Iterator[OrderLines]:
    """Yield OrderLines batches for `orders` orders of `seed`, dated over `days` days to end_date."""
    if not 0 <= seed <= SEED_LIMIT - 1:
        raise ValueError(f"seed must be from 0 to {SEED_LIMIT - 1}")
    if not 0 <= orders < IDS_PER_SEED:
        raise ValueError(f"orders must be from 0 to {IDS_PER_SEED - 1}")
    if days < 1:
        raise ValueError("days must be at least 1")
    first = seed_id_range(seed)[0] + 1
    for chunk_no, start in enumerate(range(0, orders, ORDERS_PER_CHUNK)):
        count = min(ORDERS_PER_CHUNK, orders - start)
        rng = np.random.default_rng([seed, BULK_STREAM, chunk_no])
        yield _chunk(rng, first + start, count, catalog, end_date, days)


def live_orders(seed: int, first_orderid: int, count: int, catalog: Catalog, day: date) -> OrderLines:
    """`count` orders dated `day`, numbered from first_orderid: the stream --follow appends."""
    if first_orderid + count > seed_id_range(seed)[1]:
        raise ValueError(f"seed {seed} has no order ids left")
    rng = np.random.default_rng([seed, LIVE_STREAM, first_orderid])
    return _chunk(rng, first_orderid, count, catalog, day, 1)


def first_date(end_date: date, days: int) -> date:
    return end_date - timedelta(days=days - 1)
