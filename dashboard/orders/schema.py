"""The OLAP schema: the orders table and the rollups every ranking reads, as SQL templates.

The exact DDL each engine gets is checked in as golden files (tests/orders/golden/), so a
reviewer reads a change to it as SQL. Only the constant names of this module (tables,
columns) are ever filled into a template; no input reaches the statements' text.

The DDL for `orders` is what both RisingWave and PostgreSQL accept: RisingWave (v3.0.3)
rejects NUMERIC(p, s) and VARCHAR(n) (plain NUMERIC and VARCHAR only), has no SERIAL, and of
the table constraints accepts only PRIMARY KEY (no UNIQUE, CHECK or FOREIGN KEY; a column
may be NOT NULL).

Rollups have the same names and columns on both engines, so one set of models reads them:
- on RisingWave they are materialized views, maintained incrementally by the engine;
- on PostgreSQL they are tables kept current inside every statement that writes `orders`,
  by statement-level triggers that aggregate the statement's transition tables (the rows it
  inserted or deleted) and add the result with an upsert. A writer's rows reach the
  rankings the moment it commits, and a bulk COPY pays one aggregation, not one per row.

The two span rollups (what a date range reads: dashboard/orders/spans.py) are summed from a
day rollup's rows, or from its delta, over every span of days that holds each day.

Each rollup row carries additive measures: lines, qty_sum and qty_lines (lines with a known
qty), turnover and turnover_lines (lines with a known qty * price). A group whose *_lines
is 0 has no known value, which is how the raw queries' NULLs are kept apart from zeros.
"""

from dataclasses import dataclass
from textwrap import dedent, indent

from dashboard.orders.spans import SPAN_START_SQL, STORED_SPAN_DAYS

ORDER_COLUMNS = ("orderid", "itemid", "qty", "price", "dt", "state")

# A line's money. The sample orders give a unit price (turnover is qty * price); a shop's
# lines give their amount (django-oscar's line_price_excl_tax), which is not always a
# multiple of the quantity, so it is kept as it is: `amount`, NULL where the price says it.
LINE_TURNOVER = "COALESCE(amount, qty * price)"

CREATE_ORDERS = dedent("""\
    CREATE TABLE IF NOT EXISTS orders (
        orderid BIGINT,
        itemid INT,
        qty INT,
        price NUMERIC,
        dt DATE,
        state VARCHAR,
        amount NUMERIC,
        PRIMARY KEY (orderid, itemid)
    )""")
# A table set up before lines had an amount gains the column (NULL: price says it).
ADD_AMOUNT = "ALTER TABLE orders ADD COLUMN IF NOT EXISTS amount NUMERIC"

# On PostgreSQL with a mapped shop schema, `orders` holds the lines derived from the shop's
# tables (dashboard/orders/derivation.py): one per (order, item), where a line whose product
# was deleted has no item (NULL), so the key is a unique index that treats NULLs as equal.
CREATE_SHOP_LINES = dedent("""\
    CREATE TABLE IF NOT EXISTS orders (
        orderid BIGINT NOT NULL,
        itemid INT,
        qty INT,
        price NUMERIC,
        dt DATE,
        state VARCHAR,
        amount NUMERIC
    )""")
SHOP_LINES_KEY = "orders_line"
CREATE_SHOP_LINES_KEY = (
    "CREATE UNIQUE INDEX IF NOT EXISTS orders_line ON orders (orderid, itemid) NULLS NOT DISTINCT"
)

KEY_TYPES = {"state": "VARCHAR", "itemid": "INT", "dt": "DATE", "days": "INT"}
MEASURES = ("lines", "qty_sum", "qty_lines", "turnover", "turnover_lines")
ORDERS = "orders"

# A bulk loader that computes the deltas of its own rows sets this for its transaction, so
# the triggers skip its COPY (dashboard/orders/loader_rollups.py); every other writer leaves it.
LOADER_WRITES_ROLLUPS = "dashboard.loader_writes_rollups"

# On PostgreSQL, a sequence every writer of the rollups advances: its value changes whenever
# the figures may have, which lets the dashboard answer "nothing new" (304) without a query
# over the rollups. Sequences are not transactional, so writers never wait on one another.
ROLLUPS_VERSION = "orders_rollups_version"
CREATE_ROLLUPS_VERSION = f"CREATE SEQUENCE IF NOT EXISTS {ROLLUPS_VERSION}"

# How current the figures are, by (engine, captured): (the version above, or NULL where there
# is none, and how many seconds behind the shop's database they are, or NULL). One cheap query,
# for every poll of an open dashboard. With capture, the shop's time reached is the folded
# heartbeat on PostgreSQL, the captured one on RisingWave (its views move with the table).
_BEHIND_FOLDED = "EXTRACT(EPOCH FROM now() - (SELECT max(source_time) FROM cdc_progress))"
_BEHIND_CAPTURED = "EXTRACT(EPOCH FROM now() - (SELECT max(beat) FROM cdc_heartbeat))"
FRESHNESS = {
    ("postgresql", False): f"SELECT last_value, NULL::float8 FROM {ROLLUPS_VERSION}",
    ("postgresql", True): f"SELECT (SELECT last_value FROM {ROLLUPS_VERSION}), {_BEHIND_FOLDED}",
    ("risingwave", False): "SELECT NULL::bigint, NULL::float8",
    ("risingwave", True): f"SELECT NULL::bigint, {_BEHIND_CAPTURED}",
}
# A mapped shop's heartbeat is the dashboard's own table in the shop's database, captured
# under its own schema (dashboard/orders/derivation.py): RisingWave reads it there.
FRESHNESS_MAPPED_RISINGWAVE = FRESHNESS["risingwave", True].replace(
    "FROM cdc_heartbeat", "FROM dashboard_capture.cdc_heartbeat"
)


@dataclass(frozen=True)
class Rollup:
    name: str
    keys: tuple[str, ...]  # dt before the other keys on day grain, so date ranges are index scans
    # Also "orders": how many orders have lines in each (state, day). An order is one
    # checkout, in one state on one day, so summed over days and states it counts orders.
    counts_orders: bool = False
    # On PostgreSQL, a log of deltas with no key, summed when read: a bulk load appends its
    # rows sorted by (state, dt), so a BRIN index finds a state's days; upserting millions of
    # keyed rows would cost a 10M-line load a minute. RisingWave keeps it as a plain view.
    delta_log: bool = False
    # Columns a line must have besides the keys to be counted: the per-day rollup counts the
    # lines with a known state only, as the per-state ones do, so both sum to the headline.
    also_known: tuple[str, ...] = ()
    # A span rollup (dashboard/orders/spans.py): the day rollup `spans` summed over every span
    # of 8 days or more, keyed by the span's first day (dt) and its length (days), then the
    # day rollup's other keys. Computed from that rollup's rows (or deltas), never from lines.
    spans: "Rollup | None" = None

    @property
    def known(self) -> tuple[str, ...]:
        """The columns a line must have (not NULL) to be counted in this rollup (a rollup
        summed from orders; a span rollup is summed from its day rollup)."""
        return self.keys + self.also_known

    @property
    def day_grain(self) -> bool:
        return "dt" in self.keys

    @property
    def range_keys(self) -> tuple[str, ...]:
        """The keys up to dt (a span's: and its length): what a date range (and a state) is
        looked up by."""
        return self.keys[: self.keys.index("days" if self.spans else "dt") + 1]

    @property
    def measures(self) -> tuple[str, ...]:
        return MEASURES + ((ORDERS,) if self.counts_orders else ())

    @property
    def columns(self) -> tuple[str, ...]:
        return self.keys + self.measures


# Every state's day summed: the trend without a state filter reads a row a day instead of
# grouping the (state, day) rows (a year: 365 rows, not 18,000).
DAY = Rollup("orders_day", ("dt",), counts_orders=True, also_known=("state",))
STATE_DAY = Rollup("orders_state_day", ("dt", "state"), counts_orders=True)
ITEM_DAY = Rollup("orders_item_day", ("dt", "itemid"))
STATE_ITEM_DAY = Rollup("orders_state_item_day", ("state", "dt", "itemid"), delta_log=True)
STATE_TOTAL = Rollup("orders_state_total", ("state",), counts_orders=True)
ITEM_TOTAL = Rollup("orders_item_total", ("itemid",))
STATE_ITEM_TOTAL = Rollup("orders_state_item_total", ("state", "itemid"))
# What a date range reads: the states' and the items' figures over spans of days.
STATE_SPAN = Rollup("orders_state_span", ("dt", "days", "state"), counts_orders=True, spans=STATE_DAY)
ITEM_SPAN = Rollup("orders_item_span", ("dt", "days", "itemid"), spans=ITEM_DAY)
# Each span rollup after the day rollup it sums (PostgreSQL fills it from that table).
ROLLUPS = (
    DAY,
    STATE_DAY,
    ITEM_DAY,
    STATE_ITEM_DAY,
    STATE_TOTAL,
    ITEM_TOTAL,
    STATE_ITEM_TOTAL,
    STATE_SPAN,
    ITEM_SPAN,
)


def _names(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names)


def _not_null(keys: tuple[str, ...]) -> str:
    return " AND ".join(f"{key} IS NOT NULL" for key in keys)


def _block(sql: str, level: int = 1) -> str:
    """`sql` indented to sit inside parentheses in another template (first line unindented)."""
    return indent(sql, "    " * level).lstrip()


# --- Rollups computed from scratch over `orders` (RisingWave's views, PostgreSQL's refill) --

LINE_MEASURES = (
    "COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines,\n"
    f"SUM({LINE_TURNOVER}) AS turnover, COUNT({LINE_TURNOVER}) AS turnover_lines"
)
SUMMED_MEASURES = (
    "SUM(lines) AS lines, SUM(qty_sum) AS qty_sum, SUM(qty_lines) AS qty_lines,\n"
    "SUM(turnover) AS turnover, SUM(turnover_lines) AS turnover_lines"
)

AGGREGATE_ORDERS = dedent("""\
    SELECT {keys},
        {line_measures}
    FROM orders
    WHERE {keys_known}
    GROUP BY {keys}""")

# First one group per order and day, then the rollup's groups: each inner group is one
# order, counted once.
AGGREGATE_ORDERS_COUNTING_ORDERS = dedent("""\
    SELECT {keys},
        {summed_measures},
        COUNT(*) AS orders
    FROM (
        SELECT {per_order},
            {line_measures}
        FROM orders
        WHERE {keys_known}
        GROUP BY {per_order}
    ) AS per_order
    GROUP BY {keys}""")


# A span rollup from the rows of its day rollup (or of a delta of it): each row once per span
# length stored, at the first day of its span of that length, then summed per key. In two
# steps, as the span's first day is computed from the length that unnest() gives.
SPREAD_OVER_SPANS = dedent("""\
    SELECT {keys},
        {sums}
    FROM (
        SELECT {span_start} AS dt, days, {other_keys}, {measures}
        FROM (
            SELECT {day_columns}, unnest(ARRAY[{span_days}]) AS days
            FROM {source}
        ) AS each_size
    ) AS spread
    GROUP BY {keys}""")


def spread_over_spans(rollup: Rollup, source: str) -> str:
    """The rows of `source` (a table, or a subquery with an alias, holding the columns of
    `rollup.spans`) summed into the span rollup `rollup`'s rows."""
    assert rollup.spans
    other_keys = [key for key in rollup.keys if key not in ("dt", "days")]
    return SPREAD_OVER_SPANS.format(
        keys=_names(rollup.keys),
        sums=_block(_names([f"SUM({measure}) AS {measure}" for measure in rollup.measures])),
        span_start=SPAN_START_SQL.format(dt="dt", days="days"),
        other_keys=_names(other_keys),
        measures=_names(rollup.measures),
        day_columns=_names(rollup.spans.columns),
        span_days=_names([str(days) for days in STORED_SPAN_DAYS]),
        source=source,
    )


def aggregate_orders(rollup: Rollup) -> str:
    """The rollup computed from scratch over `orders` (a span rollup: over its day rollup)."""
    if rollup.spans:
        return spread_over_spans(rollup, rollup.spans.name)
    if not rollup.counts_orders:
        return AGGREGATE_ORDERS.format(
            keys=_names(rollup.keys), keys_known=_not_null(rollup.known), line_measures=_block(LINE_MEASURES)
        )
    return AGGREGATE_ORDERS_COUNTING_ORDERS.format(
        keys=_names(rollup.keys),
        keys_known=_not_null(rollup.known),
        # An order counts once per state and day it has lines in, as the per-state rollups
        # count it: the per-day rollup is their sum.
        per_order=_names(list(dict.fromkeys((*rollup.known, "dt", "orderid")))),
        line_measures=_block(LINE_MEASURES, 2),
        summed_measures=_block(SUMMED_MEASURES),
    )


# --- RisingWave ------------------------------------------------------------------------

CREATE_VIEW = "CREATE MATERIALIZED VIEW IF NOT EXISTS {name} AS\n{query}"
CREATE_RANGE_INDEX = "CREATE INDEX IF NOT EXISTS {name}_range ON {name} ({range_keys})"

# The order browser's newest-first pages (ORDER BY orderid DESC, itemid DESC LIMIT n): RisingWave
# cannot scan the primary key backwards, so it reads them from this index, whose key is that
# order exactly; it covers every column by default (a second copy of `orders`). Why and where
# this is verified: dashboard/orders/browser.py. PostgreSQL reads its primary key backwards.
CREATE_NEWEST_FIRST_INDEX = (
    "CREATE INDEX IF NOT EXISTS orders_newest_first ON orders (orderid DESC, itemid DESC)"
)


def risingwave_statements() -> list[str]:
    """The DDL a RisingWave database gets: the table and its newest-first index, each rollup
    as a materialized view, and an index on the day-grain views' range keys."""
    return [CREATE_ORDERS, CREATE_NEWEST_FIRST_INDEX, *risingwave_view_statements()]


def risingwave_view_statements() -> list[str]:
    statements = []
    for rollup in ROLLUPS:
        statements.append(CREATE_VIEW.format(name=rollup.name, query=aggregate_orders(rollup)))
        if rollup.day_grain:
            statements.append(
                CREATE_RANGE_INDEX.format(name=rollup.name, range_keys=_names(rollup.range_keys))
            )
    return statements


# With ORDERS_SOURCE=cdc, `orders` (and the heartbeat) are tables RisingWave fills from a
# postgres-cdc source on the shop's database: it backfills what is there, then follows every
# insert, update and delete; the views above work on it as on any table. Option names are
# those of RisingWave v3.0's source (DbzConnectorConfig.java, validate.rs). The publication is
# the one setup_olap creates on the shop's side (so the capture's user needs no CREATE
# rights), and both it and the slot are named: v3 would name them rw_*_<uuid> otherwise.
# Values are bound parameters (%(name)s), never text of ours.
CDC_SOURCE = "shop_orders_cdc"
CREATE_CDC_SOURCE = dedent("""\
    CREATE SOURCE IF NOT EXISTS shop_orders_cdc WITH (
        connector = 'postgres-cdc',
        hostname = %(host)s,
        port = %(port)s,
        username = %(user)s,
        password = %(password)s,
        database.name = %(database)s,
        schema.name = 'public',
        slot.name = %(slot)s,
        publication.name = %(publication)s,
        publication.create.enable = 'false'
    )""")
# The shop's sample table has no amount: here it is a generated column, which RisingWave allows
# on a CDC table after the captured ones (create_table.rs, generated_columns_check_for_cdc_table).
CREATE_CAPTURED_ORDERS = (
    CREATE_ORDERS.replace("    amount NUMERIC,\n", "    amount NUMERIC AS qty * price,\n")
    + " FROM shop_orders_cdc TABLE 'public.orders'"
)
CREATE_CAPTURED_HEARTBEAT = dedent("""\
    CREATE TABLE IF NOT EXISTS cdc_heartbeat (
        id INT,
        beat TIMESTAMPTZ,
        PRIMARY KEY (id)
    ) FROM shop_orders_cdc TABLE 'public.cdc_heartbeat'""")
# Turning capture off: the source, and with it the tables and views fed from it. The slot
# on the shop's server stays (RisingWave never drops it): the caller drops it there.
DROP_CDC_SOURCE = "DROP SOURCE IF EXISTS shop_orders_cdc CASCADE"
# Whether `orders` is a table fed from a source: its CREATE statement, as RisingWave keeps it
# in rw_catalog.rw_tables.definition, says FROM <source> TABLE '<table>'.
ORDERS_IS_CAPTURED = (
    "SELECT definition LIKE '% FROM % TABLE ''%' FROM rw_catalog.rw_tables WHERE name = 'orders'"
)


def risingwave_capture_statements() -> list[str]:
    """The DDL a RisingWave database gets with ORDERS_SOURCE=cdc, in order (the source's
    values bound as %(name)s parameters)."""
    return [
        CREATE_CDC_SOURCE,
        CREATE_CAPTURED_ORDERS,
        CREATE_NEWEST_FIRST_INDEX,
        CREATE_CAPTURED_HEARTBEAT,
        *risingwave_view_statements(),
    ]


# --- PostgreSQL: rollup tables ---------------------------------------------------------

CREATE_ROLLUP_TABLE = dedent("""\
    CREATE TABLE IF NOT EXISTS {name} (
        {key_columns},
        lines BIGINT NOT NULL,
        qty_sum BIGINT NOT NULL,
        qty_lines BIGINT NOT NULL,
        turnover NUMERIC NOT NULL,
        turnover_lines BIGINT NOT NULL{orders_column}{primary_key}
    )""")
CREATE_DELTA_LOG_INDEX = "CREATE INDEX IF NOT EXISTS {name}_range ON {name} USING brin ({range_keys})"

# Recompute a (truncated) rollup table from `orders`.
FILL_ROLLUP = dedent("""\
    INSERT INTO {name} ({columns})
    SELECT {keys}, lines, COALESCE(qty_sum, 0), qty_lines, COALESCE(turnover, 0), turnover_lines{orders}
    FROM (
        {query}
    ) AS fresh
    ORDER BY {keys}""")


# The all-time item rankings read only the top five of the item total rollup by each value
# (dashboard.orders.selectors), in the rankings' own order: value highest first, then item id,
# among the items whose value is known (a count of lines that have it, not zero). Each is
# {metric: (its value as SQL over the rollup's columns, the count that makes it known)}. The
# average is the float the rankings rank by (the same numeric division, cast by the server).
ITEM_RANKING_VALUES = {
    "turnover": ("turnover", "turnover_lines"),
    "avg_qty": ("(qty_sum::numeric / NULLIF(qty_lines, 0))::float8", "qty_lines"),
    "total_qty": ("qty_sum", "qty_lines"),
}
# On PostgreSQL an index per ranking hands those five rows over in order: 0.1 ms for the three
# rankings against 0.4 ms for sorting every item three times, and a few hundred Python objects
# fewer per answer (docs/benchmarks.md). Partial, so that the statement's condition that the
# value is known lets the planner use it. RisingWave's batch query sorts the view's rows.
CREATE_RANKING_INDEX = (
    "CREATE INDEX IF NOT EXISTS {name}_by_{metric} ON {name} ({value} DESC, itemid) "
    "WHERE itemid IS NOT NULL AND {known} <> 0"
)


def ranking_index_statements(rollup: Rollup) -> list[str]:
    """The indexes the item rankings are read through, for the item total rollup."""
    if rollup is not ITEM_TOTAL:
        return []
    return [
        CREATE_RANKING_INDEX.format(
            name=rollup.name,
            metric=metric,
            # An expression is indexed in parentheses; a column as itself.
            value=value if value.isidentifier() else f"({value})",
            known=known,
        )
        for metric, (value, known) in ITEM_RANKING_VALUES.items()
    ]


def create_rollup_statements(rollup: Rollup) -> list[str]:
    """A keyed table (with the item rankings' indexes, for the item total rollup), or for a
    delta log a table with no key and a BRIN index."""
    table = CREATE_ROLLUP_TABLE.format(
        name=rollup.name,
        key_columns=",\n    ".join(f"{key} {KEY_TYPES[key]} NOT NULL" for key in rollup.keys),
        orders_column=f",\n    {ORDERS} BIGINT NOT NULL" if rollup.counts_orders else "",
        primary_key="" if rollup.delta_log else f",\n    PRIMARY KEY ({_names(rollup.keys)})",
    )
    if not rollup.delta_log:
        return [table, *ranking_index_statements(rollup)]
    return [table, delta_log_index(rollup)]


def delta_log_index(rollup: Rollup, table: str = "") -> str:
    """The BRIN index of a delta log, on `table` if given (a table made like it)."""
    assert rollup.delta_log
    return CREATE_DELTA_LOG_INDEX.format(name=table or rollup.name, range_keys=_names(rollup.range_keys))


def fill_rollup(rollup: Rollup) -> str:
    return FILL_ROLLUP.format(
        name=rollup.name,
        columns=_names(rollup.columns),
        keys=_names(rollup.keys),
        orders=f", {ORDERS}" if rollup.counts_orders else "",
        query=_block(aggregate_orders(rollup)),
    )


# Add rows of deltas to a keyed rollup. Key order makes concurrent writers lock rollup rows
# in the same order (no deadlocks).
UPSERT = dedent("""\
    INSERT INTO {name} AS r ({columns})
    {source}
    ORDER BY {keys}
    ON CONFLICT ({keys}) DO UPDATE SET
        {additions}""")
APPEND = dedent("""\
    INSERT INTO {name} ({columns})
    {source}
    ORDER BY {keys}""")


def upsert(rollup: Rollup, source: str) -> str:
    """Add the rows of the query `source` (the rollup's columns, in order) to the rollup."""
    additions = ",\n    ".join(f"{measure} = r.{measure} + EXCLUDED.{measure}" for measure in rollup.measures)
    return UPSERT.format(
        name=rollup.name,
        columns=_names(rollup.columns),
        source=source,
        keys=_names(rollup.keys),
        additions=additions,
    )


def append(rollup: Rollup, source: str) -> str:
    """Append the rows of the query `source` to a delta log."""
    return APPEND.format(
        name=rollup.name, columns=_names(rollup.columns), source=source, keys=_names(rollup.keys)
    )


# One statement: take every row this snapshot sees out of the log and put back one row per
# key; it answers (rows taken, rows put back). Rows that concurrent writers append meanwhile
# are not in the snapshot, so they are neither deleted nor summed: they stay as they are, and
# nothing is counted twice. A key whose lines sum to zero has no line left at all, so every
# measure is zero too: it is dropped.
COMPACT_DELTA_LOG = dedent("""\
    WITH taken AS (DELETE FROM {name} RETURNING *),
    folded AS (
        INSERT INTO {name} ({columns})
        SELECT {keys}, {sums}
        FROM taken
        GROUP BY {keys}
        HAVING SUM(lines) <> 0
        ORDER BY {keys}
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM taken), (SELECT count(*) FROM folded)""")


def compact_delta_log(rollup: Rollup) -> str:
    return COMPACT_DELTA_LOG.format(
        name=rollup.name,
        columns=_names(rollup.columns),
        keys=_names(rollup.keys),
        sums=_names([f"SUM({measure})" for measure in rollup.measures]),
    )


# --- PostgreSQL: the triggers that keep the rollups current ----------------------------

# The rows a statement changed, signed +1 (added) or -1 (removed), with each line's qty and
# turnover computed once here: NUMERIC arithmetic is what a big statement's trigger spends on.
ADDED_ROWS = f"SELECT orderid, state, itemid, dt, 1 AS sign, qty, {LINE_TURNOVER} AS turnover FROM new_rows"
REMOVED_ROWS = (
    f"SELECT orderid, state, itemid, dt, -1 AS sign, -qty AS qty, -{LINE_TURNOVER} AS turnover FROM old_rows"
)
CHANGED_ROWS = {
    "insert": ADDED_ROWS,
    "delete": REMOVED_ROWS,
    "update": f"{ADDED_ROWS}\nUNION ALL\n{REMOVED_ROWS}",
}
TRANSITION_TABLES = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}

# Writers of `orders` need no rights on the rollups: the trigger functions run as their owner
# (whoever ran setup_olap), with the search path fixed when they were created. The function's
# own work_mem keeps the hash aggregations of a big statement in memory.
#
# One aggregation of the changed rows at the finest grain, (state, item, day): `fine`; every
# rollup is summed from that, which is never larger. How many orders enter (+1) or leave (-1)
# each (state, day): an order is in a day's group while it has a line there. `lines` counts
# its lines there now (the trigger runs after the statement), `change` what the statement
# added minus what it removed, so before the statement it had lines - change. Set-based, so
# the planner may probe the primary key for a few orders or scan once for millions.
ADD_CHANGES_TO_ROLLUPS = dedent("""\
    WITH {prelude}delta AS (
        {changed_rows}
    ),
    fine AS (
        SELECT state, itemid, dt,
            SUM(sign) AS lines,
            COALESCE(SUM(qty), 0) AS qty_sum,
            SUM(CASE WHEN qty IS NOT NULL THEN sign ELSE 0 END) AS qty_lines,
            COALESCE(SUM(turnover), 0) AS turnover,
            SUM(CASE WHEN turnover IS NOT NULL THEN sign ELSE 0 END) AS turnover_lines
        FROM delta
        GROUP BY state, itemid, dt
    ),
    {order_counts}
    -- The (state, day) sums and their order counts side by side in a GROUP BY, not a join:
    -- a join matches NULL days only through IS NOT DISTINCT FROM, which no hash or merge
    -- key takes (a fold of a million changes compared 6.6M pairs, 0.7 s).
    state_days AS (
        SELECT state, dt,
            {summed_measures},
            SUM(orders) AS orders
        FROM (
            SELECT state, dt, lines, qty_sum, qty_lines, turnover, turnover_lines, 0 AS orders
            FROM fine
            WHERE state IS NOT NULL
            UNION ALL
            SELECT state, dt, 0, 0, 0, 0, 0, orders
            FROM order_counts
        ) AS both_sides
        GROUP BY state, dt
    ),
    {shared}{writes}""")
# How many orders enter or leave each (state, day), when the changed rows are some of each
# order's lines: counted against the lines `orders` holds after the statement.
COUNT_ORDERS_AGAINST_TABLE = dedent("""\
    order_days AS (
        SELECT orderid, state, dt, SUM(sign) AS change
        FROM delta
        WHERE state IS NOT NULL
        GROUP BY orderid, state, dt
    ),
    now_in AS (
        SELECT o.orderid, o.state, o.dt, COUNT(*) AS lines
        FROM orders AS o
        WHERE o.state IS NOT NULL AND o.orderid IN (SELECT orderid FROM order_days)
        GROUP BY o.orderid, o.state, o.dt
    ),
    -- Each (order, state, day) touched, with its change and its lines now, side by side: a
    -- GROUP BY (which matches a NULL day to a NULL day) rather than a join, so a fold of a
    -- million changes costs two hash aggregations, whatever the planner guesses.
    order_day_lines AS (
        SELECT state, dt, SUM(change) AS change, SUM(lines) AS lines
        FROM (
            SELECT orderid, state, dt, change, 0 AS lines FROM order_days
            UNION ALL
            SELECT orderid, state, dt, 0, lines FROM now_in
        ) AS both_sides
        GROUP BY orderid, state, dt
    ),
    order_counts AS (
        SELECT state, dt, SUM((lines > 0)::int - (lines - change > 0)::int) AS orders
        FROM order_day_lines
        GROUP BY state, dt
    ),""")
# The same, when the changed rows are every line of each order they touch, before (-1) and
# after (+1): an order is in a (state, day) after if it has a line there signed +1, before
# if it has one signed -1; `orders` need not be read.
COUNT_ORDERS_IN_DELTA = dedent("""\
    order_counts AS (
        SELECT state, dt, SUM(after::int - before::int) AS orders
        FROM (
            SELECT orderid, state, dt, bool_or(sign > 0) AS after, bool_or(sign < 0) AS before
            FROM delta
            WHERE state IS NOT NULL
            GROUP BY orderid, state, dt
        ) AS order_days
        GROUP BY state, dt
    ),""")

MAINTAIN_ROLLUPS = dedent("""\
    CREATE OR REPLACE FUNCTION orders_rollups_after_{event}() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET work_mem = '64MB' AS $$
    BEGIN
    PERFORM nextval('{version}');
    IF current_setting('{skip_setting}', true) = 'on' THEN RETURN NULL; END IF;
    {add_changes};
    RETURN NULL;
    END $$""")

# One rollup's delta, summed from `fine` (or, for the rollups that count orders, from
# `state_days`).
ROLLUP_DELTA = dedent("""\
    SELECT {keys},
        {sums}
    FROM {source}
    WHERE {keys_known}
    GROUP BY {keys}""")

ROLLUP_TRIGGER = "orders_rollups_{event}"
CREATE_TRIGGER = (
    f"CREATE OR REPLACE TRIGGER {ROLLUP_TRIGGER} AFTER {{EVENT}} ON orders\n"
    "{transition_tables} FOR EACH STATEMENT EXECUTE FUNCTION orders_rollups_after_{event}()"
)
# A load that empties the table drops this one until its COPY is in (dashboard/orders/loading.py).
INSERT_TRIGGER = ROLLUP_TRIGGER.format(event="insert")

# Emptying `orders` empties the rollups and the changes not folded yet, unless a load that
# replaces everything the table holds writes the rollups itself (LOADER_WRITES_ROLLUPS; it
# deletes their rows, which readers keep seeing until it commits). ENABLE ALWAYS: it also
# fires for a TRUNCATE that logical replication applies (which runs in replica mode).
EMPTY_ROLLUPS_ON_TRUNCATE = dedent("""\
    CREATE OR REPLACE FUNCTION orders_rollups_after_truncate() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    BEGIN
    PERFORM nextval('{version}');
    IF current_setting('{skip_setting}', true) = 'on' THEN RETURN NULL; END IF;
    TRUNCATE {tables};
    RETURN NULL;
    END $$""")
CREATE_TRUNCATE_TRIGGER = (
    "CREATE OR REPLACE TRIGGER orders_rollups_truncate AFTER TRUNCATE ON orders\n"
    "FOR EACH STATEMENT EXECUTE FUNCTION orders_rollups_after_truncate()"
)
ENABLE_TRUNCATE_TRIGGER_ALWAYS = "ALTER TABLE orders ENABLE ALWAYS TRIGGER orders_rollups_truncate"

# --- PostgreSQL: which rollup rows changed, for the web processes' mirrors ---------------
#
# Each web process keeps the day and total rollups that a date range without a state reads
# (dashboard/orders/mirror.py). Every statement that changes one of those tables NOTIFYs
# MIRROR_CHANNEL at its commit with what it changed: "days <first> <last>" (the days of the
# rows it changed, from its transition table), "totals", or "all" for a TRUNCATE. Triggers on
# the rollups themselves, so no writer (the orders' triggers, the capture's folds, the
# loader, setup_olap's fill) can change them unannounced; ENABLE ALWAYS, so that a TRUNCATE
# applied by logical replication (replica mode) announces itself too.
MIRROR_CHANNEL = "dashboard_rollups_changed"
MIRRORED_DAY_ROLLUPS = (DAY, STATE_DAY, ITEM_DAY)
MIRRORED_TOTAL_ROLLUPS = (STATE_TOTAL, ITEM_TOTAL)
NOTIFY_FUNCTIONS = [
    dedent(f"""\
    CREATE OR REPLACE FUNCTION orders_mirror_days_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        first_day date;
        last_day date;
    BEGIN
    SELECT min(dt), max(dt) INTO first_day, last_day FROM changed;
    IF first_day IS NOT NULL THEN
        PERFORM pg_notify('{MIRROR_CHANNEL}',
            'days ' || to_char(first_day, 'YYYY-MM-DD') || ' ' || to_char(last_day, 'YYYY-MM-DD'));
    END IF;
    RETURN NULL;
    END $$"""),
    dedent(f"""\
    CREATE OR REPLACE FUNCTION orders_mirror_totals_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
    IF EXISTS (SELECT FROM changed) THEN PERFORM pg_notify('{MIRROR_CHANNEL}', 'totals'); END IF;
    RETURN NULL;
    END $$"""),
    dedent(f"""\
    CREATE OR REPLACE FUNCTION orders_mirror_emptied() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
    PERFORM pg_notify('{MIRROR_CHANNEL}', 'all');
    RETURN NULL;
    END $$"""),
]
# Every row change but an UPDATE's dt (a key) is in the transition table: NEW for inserts and
# updates, OLD for deletes.
_MIRROR_TRANSITION = {"insert": "NEW", "update": "NEW", "delete": "OLD"}


# What a mirror reads (dashboard/orders/mirror.py): the day rollups' rows over a range of days
# (bound), the total rollups' rows, each as (part, dt, state, itemid, lines, orders, qty_sum,
# qty_lines, turnover in millionths, turnover_lines, whether that is exact); and first the
# days and keys a full read would hold, the bound on its memory.
_MICRO = "COALESCE(round(turnover * 1000000), 0)::bigint"
_MICRO_EXACT = "(turnover * 1000000 = round(turnover * 1000000)) IS NOT FALSE"
_MIRROR_COLUMNS = f"{_MICRO}, turnover_lines, {_MICRO_EXACT}"
MIRROR_DAY_ROWS = (
    "SELECT 0, dt, NULL::varchar, NULL::integer, lines, orders, 0::bigint, 0::bigint, "
    f"{_MIRROR_COLUMNS} FROM {DAY.name} WHERE dt BETWEEN %(first)s AND %(last)s\n"
    f"UNION ALL SELECT 1, dt, state, NULL, lines, orders, 0, 0, {_MIRROR_COLUMNS} "
    f"FROM {STATE_DAY.name} WHERE dt BETWEEN %(first)s AND %(last)s\n"
    f"UNION ALL SELECT 2, dt, NULL, itemid, 0, 0, COALESCE(qty_sum, 0), qty_lines, {_MIRROR_COLUMNS} "
    f"FROM {ITEM_DAY.name} WHERE dt BETWEEN %(first)s AND %(last)s AND itemid IS NOT NULL"
)
MIRROR_TOTAL_ROWS = (
    "SELECT 3, NULL::date, state, NULL::integer, lines, orders, 0::bigint, 0::bigint, "
    f"{_MIRROR_COLUMNS} FROM {STATE_TOTAL.name}\n"
    f"UNION ALL SELECT 4, NULL, NULL, itemid, 0, 0, COALESCE(qty_sum, 0), qty_lines, {_MIRROR_COLUMNS} "
    f"FROM {ITEM_TOTAL.name} WHERE itemid IS NOT NULL"
)
MIRROR_EXTENT = (
    f"SELECT least((SELECT min(dt) FROM {DAY.name}), (SELECT min(dt) FROM {STATE_DAY.name}), "
    f"(SELECT min(dt) FROM {ITEM_DAY.name})), "
    f"greatest((SELECT max(dt) FROM {DAY.name}), (SELECT max(dt) FROM {STATE_DAY.name}), "
    f"(SELECT max(dt) FROM {ITEM_DAY.name})), "
    f"(SELECT count(*) FROM {STATE_TOTAL.name}) + (SELECT count(*) FROM {ITEM_TOTAL.name})"
)


def mirror_trigger_statements() -> list[str]:
    """The functions and triggers that announce changes to the mirrored rollups."""
    statements = list(NOTIFY_FUNCTIONS)
    for rollups, function in (
        (MIRRORED_DAY_ROLLUPS, "orders_mirror_days_changed"),
        (MIRRORED_TOTAL_ROLLUPS, "orders_mirror_totals_changed"),
    ):
        for rollup in rollups:
            for event, transition in _MIRROR_TRANSITION.items():
                trigger = f"orders_mirror_{event}"
                statements += [
                    f"CREATE OR REPLACE TRIGGER {trigger} AFTER {event.upper()} ON {rollup.name}\n"
                    f"REFERENCING {transition} TABLE AS changed\n"
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
                    f"ALTER TABLE {rollup.name} ENABLE ALWAYS TRIGGER {trigger}",
                ]
    for rollup in MIRRORED_DAY_ROLLUPS + MIRRORED_TOTAL_ROLLUPS:
        statements += [
            f"CREATE OR REPLACE TRIGGER orders_mirror_truncate AFTER TRUNCATE ON {rollup.name}\n"
            "FOR EACH STATEMENT EXECUTE FUNCTION orders_mirror_emptied()",
            f"ALTER TABLE {rollup.name} ENABLE ALWAYS TRIGGER orders_mirror_truncate",
        ]
    return statements


# --- PostgreSQL: changes that logical replication applies (ORDERS_SOURCE=cdc) ------------
#
# The apply worker fires no statement triggers, only row triggers set ENABLE REPLICA (or
# ALWAYS), one call per row, which halves its speed (about 100k rows/s with a trigger that
# logs each row, 180-200k without, on the benchmark's machine). So an inserted row costs
# no trigger: under the capture, `captured_xid` defaults to the id of the transaction that
# applies it (only in replica mode: a direct write keeps NULL), and each fold takes the rows
# that became visible since the last fold's snapshot (`cdc_progress.folded_snapshot`; an
# index on the column finds them). An UPDATE or DELETE, which a bulk import does not send,
# goes through a row trigger (before the row changes): it logs the old row, signed -1 and
# with the transaction that had written it (`born`), to a narrow log, and an UPDATE stamps
# the new row as an insert. A logged row is taken off the rollups only if the last fold's
# snapshot saw it, i.e. a fold added it; a row written and replaced between two folds was
# never added and is not removed (see FOLD_CHANGES). `manage.py cdc_worker` folds every
# 100 ms with one set-based statement. ENABLE REPLICA: the statement triggers keep serving
# direct writes, so nothing is counted twice.
CHANGE_LOG = "orders_changes"
CREATE_CHANGE_LOG = dedent("""\
    CREATE TABLE IF NOT EXISTS orders_changes (
        orderid BIGINT NOT NULL,
        itemid INT NOT NULL,
        qty INT,
        price NUMERIC,
        dt DATE,
        state VARCHAR,
        sign SMALLINT NOT NULL
    )""")
# A log from before (whose rows all count, as `born` is NULL) gains the column.
ADD_CHANGE_BORN = "ALTER TABLE orders_changes ADD COLUMN IF NOT EXISTS born XID8"
ADD_CAPTURED_XID = "ALTER TABLE orders ADD COLUMN IF NOT EXISTS captured_xid XID8"
CREATE_CAPTURED_INDEX = (
    "CREATE INDEX IF NOT EXISTS orders_captured ON orders (captured_xid) WHERE captured_xid IS NOT NULL"
)
# The stamp is the builtin `pg_current_xact_id()` as the column's default, and direct writers
# are kept out of it by a row trigger that only they fire. PostgreSQL 15's apply worker plans a
# column's default expression afresh for every row it inserts, so the default must be a cheap
# call: a CASE on session_replication_role cost a 1M-line transaction about 2 s of its apply
# (2026-12-06), and the same test in a PL/pgSQL function (orders_capture_stamp(), which
# earlier versions made) still about 1 s: 6.14-6.29 s from the commit to applied against
# 5.25-5.52 s for the builtin alone (scratch databases, 2026-12-07). A direct writer (a
# session not in replica mode) must leave the column NULL, since the statement triggers
# count its rows and a fold must not count them again: the BEFORE INSERT trigger below is
# left enabled as triggers are by default (ENABLE ORIGIN), which the apply worker never
# fires, so the apply pays nothing for it (5.33-5.45 s with it). Made by setup_olap for a
# captured sample table only, with the default: direct loads into a table that is not
# captured pay neither.
DROP_CAPTURE_STAMP_FUNCTION = "DROP FUNCTION IF EXISTS orders_capture_stamp()"
CREATE_UNSTAMP_DIRECT = dedent("""\
    CREATE OR REPLACE FUNCTION orders_unstamp_direct() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
    NEW.captured_xid := NULL;
    RETURN NEW;
    END $$""")
DROP_UNSTAMP_DIRECT_TRIGGER = "DROP TRIGGER IF EXISTS orders_unstamp_direct ON orders"
STAMP_APPLIED_ROWS = [
    "ALTER TABLE orders ALTER COLUMN captured_xid SET DEFAULT pg_current_xact_id()",
    "CREATE TRIGGER orders_unstamp_direct BEFORE INSERT ON orders\n"
    "FOR EACH ROW EXECUTE FUNCTION orders_unstamp_direct()",
]
UNSTAMPED_ROWS = "ALTER TABLE orders ALTER COLUMN captured_xid DROP DEFAULT"
LOG_CHANGE = dedent("""\
    CREATE OR REPLACE FUNCTION orders_log_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    BEGIN
    INSERT INTO orders_changes (orderid, itemid, qty, price, dt, state, sign, born)
    VALUES (OLD.orderid, OLD.itemid, OLD.qty, OLD.price, OLD.dt, OLD.state, -1, OLD.captured_xid);
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    NEW.captured_xid := pg_current_xact_id();
    RETURN NEW;
    END $$""")
# Earlier versions logged inserts too, after the row: replaced, not altered (a trigger's
# timing cannot change in place).
DROP_LOG_CHANGE_TRIGGER = "DROP TRIGGER IF EXISTS orders_log_change ON orders"
CREATE_LOG_CHANGE_TRIGGER = (
    "CREATE TRIGGER orders_log_change BEFORE UPDATE OR DELETE ON orders\n"
    "FOR EACH ROW EXECUTE FUNCTION orders_log_change()"
)
ENABLE_LOG_CHANGE_FOR_REPLICATION = "ALTER TABLE orders ENABLE REPLICA TRIGGER orders_log_change"

# The shop's heartbeat, replicated like the orders, and how far the folded rollups have got:
# every change the shop committed before `source_time` is in them.
CREATE_HEARTBEAT = dedent("""\
    CREATE TABLE IF NOT EXISTS cdc_heartbeat (
        id INT PRIMARY KEY,
        beat TIMESTAMPTZ NOT NULL
    )""")
CREATE_PROGRESS = dedent("""\
    CREATE TABLE IF NOT EXISTS cdc_progress (
        id INT PRIMARY KEY,
        source_time TIMESTAMPTZ,
        folded_at TIMESTAMPTZ NOT NULL
    )""")
# The snapshot of the last fold: every applied row it saw is in the rollups.
ADD_FOLDED_SNAPSHOT = "ALTER TABLE cdc_progress ADD COLUMN IF NOT EXISTS folded_snapshot PG_SNAPSHOT"
# Besides `orders` and the rollups: the version, the change log, the replicated heartbeat and
# the folding progress (the last three used with ORDERS_SOURCE=cdc only; cheap to keep).
BOOKKEEPING = [
    CREATE_ROLLUPS_VERSION,
    CREATE_CHANGE_LOG,
    ADD_CHANGE_BORN,
    CREATE_HEARTBEAT,
    CREATE_PROGRESS,
    ADD_FOLDED_SNAPSHOT,
]


def _rollup_delta(rollup: Rollup) -> str:
    if rollup is STATE_ITEM_DAY:
        # `fine` has one row per (state, item, day) already: grouping it again would cost a
        # sort of every row of a big fold (a million changes: 1.5 s of 22).
        return f"SELECT {_names(rollup.columns)}\nFROM fine\nWHERE {_not_null(rollup.keys)}"
    sums = SUMMED_MEASURES + (f",\nSUM({ORDERS}) AS {ORDERS}" if rollup.counts_orders else "")
    return ROLLUP_DELTA.format(
        keys=_names(rollup.keys),
        sums=_block(sums),
        source="state_days" if rollup.counts_orders else "fine",
        keys_known=_not_null(rollup.known),
    )


def add_changes_to_rollups(
    changed_rows: str, *, final: str | None = None, prelude: str = "", whole_orders: bool = False
) -> str:
    """One statement that adds the signed rows of the query `changed_rows` (orderid, state,
    itemid, dt, sign, qty, turnover: qty and turnover already signed) to every rollup. It
    ends with the last write, or, given `final`, with every write a data-modifying CTE
    (w0, w1, ...) and `final` as the statement's own query. `prelude`: CTEs (each ending
    with a comma) that `changed_rows` reads. `whole_orders`: the rows are all the lines of
    each order they touch, before and after, so orders are counted from them alone;
    otherwise against `orders` as it is after the change."""
    # A day rollup that spans sum has its delta computed once, as a CTE both writes read.
    spanned = [rollup.spans for rollup in ROLLUPS if rollup.spans]
    shared = [f"{day.name}_delta AS (\n    {_block(_rollup_delta(day))}\n),\n" for day in spanned]

    def delta(rollup: Rollup) -> str:
        if rollup.spans:
            return spread_over_spans(rollup, f"{rollup.spans.name}_delta")
        if rollup in spanned:
            return f"SELECT {_names(rollup.columns)}\nFROM {rollup.name}_delta"
        return _rollup_delta(rollup)

    writes = [append(STATE_ITEM_DAY, delta(STATE_ITEM_DAY))]
    writes += [upsert(rollup, delta(rollup)) for rollup in ROLLUPS if rollup is not STATE_ITEM_DAY]
    as_ctes = writes if final else writes[:-1]
    ctes = [f"w{number} AS (\n    {_block(write)}\n)" for number, write in enumerate(as_ctes)]
    return ADD_CHANGES_TO_ROLLUPS.format(
        prelude=prelude,
        changed_rows=_block(changed_rows),
        order_counts=COUNT_ORDERS_IN_DELTA if whole_orders else COUNT_ORDERS_AGAINST_TABLE,
        summed_measures=_block(SUMMED_MEASURES, 2),
        shared="".join(shared),
        writes=",\n".join(ctes) + "\n" + (final or writes[-1]),
    )


def _maintain_function(event: str) -> str:
    return MAINTAIN_ROLLUPS.format(
        event=event,
        skip_setting=LOADER_WRITES_ROLLUPS,
        version=ROLLUPS_VERSION,
        add_changes=add_changes_to_rollups(CHANGED_ROWS[event]),
    )


def rollup_trigger(event: str) -> str:
    """The statement that makes the rollups' trigger for `event` (insert, delete or update)."""
    return CREATE_TRIGGER.format(event=event, EVENT=event.upper(), transition_tables=TRANSITION_TABLES[event])


def postgresql_trigger_statements() -> list[str]:
    statements = []
    for event in ("insert", "delete", "update"):
        statements.append(_maintain_function(event))
        statements.append(rollup_trigger(event))
    emptied = _names([rollup.name for rollup in ROLLUPS] + [CHANGE_LOG])
    statements.append(
        EMPTY_ROLLUPS_ON_TRUNCATE.format(
            tables=emptied, version=ROLLUPS_VERSION, skip_setting=LOADER_WRITES_ROLLUPS
        )
    )
    statements += [CREATE_TRUNCATE_TRIGGER, ENABLE_TRUNCATE_TRIGGER_ALWAYS]
    statements += [
        ADD_CAPTURED_XID,
        CREATE_CAPTURED_INDEX,
        UNSTAMPED_ROWS,
        DROP_UNSTAMP_DIRECT_TRIGGER,
        # After the default that named it (an earlier version's stamp).
        DROP_CAPTURE_STAMP_FUNCTION,
        CREATE_UNSTAMP_DIRECT,
        LOG_CHANGE,
        DROP_LOG_CHANGE_TRIGGER,
        CREATE_LOG_CHANGE_TRIGGER,
        ENABLE_LOG_CHANGE_FOR_REPLICATION,
        *mirror_trigger_statements(),
    ]
    return statements


# What the capture applied since the last fold, added to the rollups in one statement (one
# snapshot), which answers how many signed rows it took and its own snapshot, to be kept as
# the next fold's `previous` (both bound as parameters; the snapshot "1:1:" sees nothing).
# Added: every applied row this snapshot sees and the previous one did not (its transaction
# committed in between). Taken off: every logged row whose writer the previous snapshot saw
# (a fold added it), or with no writer known (logged by an earlier version, which folded
# every insert). Rows applied or logged meanwhile are not in the snapshot: the next fold
# takes them; the order counts read `orders` in the same snapshot, so they agree.
FOLDED_SNAPSHOT_NOTHING = "1:1:"


def applied_since(stamp: str, snapshot: str) -> str:
    """The condition that the row stamped `stamp` (a captured_xid column) was applied by a
    transaction the snapshot `snapshot` (an SQL expression) does not see; the lower bound
    lets the index on the stamps find them. The capture's folds and recomputations share it."""
    return f"{stamp} >= pg_snapshot_xmin({snapshot}) AND NOT pg_visible_in_snapshot({stamp}, {snapshot})"


FOLD_CHANGES = add_changes_to_rollups(
    "SELECT orderid, state, itemid, dt, 1 AS sign, qty, COALESCE(amount, qty * price) AS turnover\n"
    "FROM orders\n"
    f"WHERE {applied_since('captured_xid', '%(previous)s::pg_snapshot')}\n"
    "UNION ALL\n"
    "SELECT orderid, state, itemid, dt, sign, sign * qty, sign * (qty * price)\n"
    "FROM taken\n"
    "WHERE born IS NULL OR pg_visible_in_snapshot(born, %(previous)s::pg_snapshot)",
    prelude="taken AS (\n    DELETE FROM orders_changes RETURNING *\n),\n",
    final="SELECT count(*), pg_current_snapshot()::TEXT FROM delta",
)


def postgresql_statements() -> list[str]:
    """The DDL a new PostgreSQL database gets, in order: the table, the rollup tables filled
    from `orders`, and the triggers that keep them current (dashboard.orders.setup runs them
    inside one transaction, with the table locked against writers)."""
    statements = [CREATE_ORDERS, ADD_AMOUNT, *BOOKKEEPING]
    for rollup in ROLLUPS:
        statements += create_rollup_statements(rollup)
    # (A TRUNCATE of the change log comes here: not DDL, so not in the golden file.)
    statements += [fill_rollup(rollup) for rollup in ROLLUPS]
    return statements + postgresql_trigger_statements()
