"""The OLAP schema: the orders table and the rollups every ranking reads.

The DDL for `orders` is what both RisingWave and PostgreSQL accept: RisingWave rejects
NUMERIC(p, s), ignores VARCHAR(n), has no SERIAL, and supports only PRIMARY KEY among
constraints.

Rollups have the same names and columns on both engines, so one set of models reads them:
- on RisingWave they are materialized views, maintained incrementally by the engine;
- on PostgreSQL they are tables kept current inside every statement that writes `orders`,
  by statement-level triggers that aggregate the statement's transition tables (the rows it
  inserted or deleted) and add the result with an upsert. A writer's rows reach the
  rankings the moment it commits, and a bulk COPY pays one aggregation, not one per row.

Each rollup row carries additive measures: lines, qty_sum and qty_lines (lines with a known
qty), turnover and turnover_lines (lines with a known qty * price). A group whose *_lines
is 0 has no known value, which is how the raw queries' NULLs are kept apart from zeros.
"""

from dataclasses import dataclass

ORDER_COLUMNS = ("orderid", "itemid", "qty", "price", "dt", "state")

CREATE_ORDERS = """
CREATE TABLE IF NOT EXISTS orders (
    orderid BIGINT,
    itemid INT,
    qty INT,
    price NUMERIC,
    dt DATE,
    state VARCHAR,
    PRIMARY KEY (orderid, itemid)
)
""".strip()

KEY_TYPES = {"state": "VARCHAR", "itemid": "INT", "dt": "DATE"}
MEASURES = ("lines", "qty_sum", "qty_lines", "turnover", "turnover_lines")
ORDERS = "orders"


@dataclass(frozen=True)
class Rollup:
    name: str
    keys: tuple  # dt before the other keys on day grain, so date ranges are index scans
    # Also "orders": how many orders have lines in each (state, day). An order is one
    # checkout, in one state on one day, so summed over days and states it counts orders.
    counts_orders: bool = False
    # On PostgreSQL, a log of deltas with no key, summed when read: a bulk load appends its
    # rows sorted by (state, dt), so a BRIN index finds a state's days; upserting millions of
    # keyed rows would cost a 10M-line load a minute. RisingWave keeps it as a plain view.
    delta_log: bool = False

    @property
    def day_grain(self):
        return "dt" in self.keys

    @property
    def range_keys(self):
        """The keys up to dt: what a date range (and a state) is looked up by."""
        return self.keys[: self.keys.index("dt") + 1]

    @property
    def measures(self):
        return MEASURES + ((ORDERS,) if self.counts_orders else ())


STATE_DAY = Rollup("orders_state_day", ("dt", "state"), counts_orders=True)
ITEM_DAY = Rollup("orders_item_day", ("dt", "itemid"))
STATE_ITEM_DAY = Rollup("orders_state_item_day", ("state", "dt", "itemid"), delta_log=True)
STATE_TOTAL = Rollup("orders_state_total", ("state",), counts_orders=True)
ITEM_TOTAL = Rollup("orders_item_total", ("itemid",))
STATE_ITEM_TOTAL = Rollup("orders_state_item_total", ("state", "itemid"))
ROLLUPS = (STATE_DAY, ITEM_DAY, STATE_ITEM_DAY, STATE_TOTAL, ITEM_TOTAL, STATE_ITEM_TOTAL)

# A bulk loader that computes the deltas of its own rows sets this for its transaction, so
# the triggers skip its COPY (dashboard/olap/loader_rollups.py); every other writer leaves it.
LOADER_WRITES_ROLLUPS = "dashboard.loader_writes_rollups"


def _not_null(keys):
    return " AND ".join(f"{key} IS NOT NULL" for key in keys)


_SUMMED = ", ".join(f"SUM({measure}) AS {measure}" for measure in MEASURES)
_LINE_MEASURES = (
    "COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines, "
    "SUM(qty * price) AS turnover, COUNT(qty * price) AS turnover_lines"
)


def _aggregate_orders(rollup):
    """The rollup computed from scratch over `orders`."""
    keys = ", ".join(rollup.keys)
    if not rollup.counts_orders:
        return f"SELECT {keys}, {_LINE_MEASURES} FROM orders WHERE {_not_null(rollup.keys)} GROUP BY {keys}"
    # First one group per order and day, then the rollup's groups: each inner group is one
    # order counted once.
    per_order = ", ".join(dict.fromkeys((*rollup.keys, "dt", "orderid")))
    return (
        f"SELECT {keys}, {_SUMMED}, COUNT(*) AS {ORDERS} FROM (SELECT {per_order}, {_LINE_MEASURES} "
        f"FROM orders WHERE {_not_null(rollup.keys)} GROUP BY {per_order}) AS per_order GROUP BY {keys}"
    )


# --- RisingWave ------------------------------------------------------------------------


def risingwave_statements():
    statements = [CREATE_ORDERS]
    for rollup in ROLLUPS:
        view = f"CREATE MATERIALIZED VIEW IF NOT EXISTS {rollup.name} AS {_aggregate_orders(rollup)}"
        statements.append(view)
        if rollup.day_grain:
            keys = ", ".join(rollup.range_keys)
            statements.append(f"CREATE INDEX IF NOT EXISTS {rollup.name}_range ON {rollup.name} ({keys})")
    return statements


# --- PostgreSQL ------------------------------------------------------------------------


def create_rollup_statements(rollup):
    keys = ", ".join(f"{key} {KEY_TYPES[key]} NOT NULL" for key in rollup.keys)
    counts = f", {ORDERS} BIGINT NOT NULL" if rollup.counts_orders else ""
    columns = (
        f"{keys}, lines BIGINT NOT NULL, qty_sum BIGINT NOT NULL, qty_lines BIGINT NOT NULL, "
        f"turnover NUMERIC NOT NULL, turnover_lines BIGINT NOT NULL{counts}"
    )
    if not rollup.delta_log:
        key = ", ".join(rollup.keys)
        return [f"CREATE TABLE IF NOT EXISTS {rollup.name} ({columns}, PRIMARY KEY ({key}))"]
    return [
        f"CREATE TABLE IF NOT EXISTS {rollup.name} ({columns})",
        f"CREATE INDEX IF NOT EXISTS {rollup.name}_range ON {rollup.name} "
        f"USING brin ({', '.join(rollup.range_keys)})",
    ]


def fill_rollup(rollup):
    """Recompute a (truncated) rollup table from `orders`."""
    counts = f", {ORDERS}" if rollup.counts_orders else ""
    return (
        f"INSERT INTO {rollup.name} ({', '.join(rollup.keys + rollup.measures)}) "
        f"SELECT {', '.join(rollup.keys)}, lines, COALESCE(qty_sum, 0), qty_lines, "
        f"COALESCE(turnover, 0), turnover_lines{counts} FROM ({_aggregate_orders(rollup)}) AS fresh "
        f"ORDER BY {', '.join(rollup.keys)}"
    )


# The rows a statement changed, signed +1 (added) or -1 (removed), with each line's qty and
# turnover computed once here: NUMERIC arithmetic is what a big statement's trigger spends on.
_ADDED = "SELECT orderid, state, itemid, dt, 1 AS sign, qty, qty * price AS turnover FROM new_rows"
_REMOVED = (
    "SELECT orderid, state, itemid, dt, -1 AS sign, -qty AS qty, -(qty * price) AS turnover FROM old_rows"
)
_DELTAS = {"insert": _ADDED, "delete": _REMOVED, "update": f"{_ADDED} UNION ALL {_REMOVED}"}
_TRANSITION_TABLES = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}
_SIGNED_MEASURES = (
    "SUM(sign) AS lines, COALESCE(SUM(qty), 0) AS qty_sum, "
    "SUM(CASE WHEN qty IS NOT NULL THEN sign ELSE 0 END) AS qty_lines, "
    "COALESCE(SUM(turnover), 0) AS turnover, "
    "SUM(CASE WHEN turnover IS NOT NULL THEN sign ELSE 0 END) AS turnover_lines"
)
_SUMMED_WITH_ORDERS = f"{_SUMMED}, SUM({ORDERS}) AS {ORDERS}"

# How many orders enter (+1) or leave (-1) each (state, day): an order is in a day's group
# while it has a line there. `lines` counts its lines there now (the trigger runs after the
# statement), `change` what the statement added minus what it removed, so before the
# statement it had lines - change. Set-based, so the planner may probe the primary key for
# a few orders or scan once for millions.
_ORDER_COUNTS = (
    "order_days AS (SELECT orderid, state, dt, SUM(sign) AS change FROM delta "
    "WHERE state IS NOT NULL GROUP BY orderid, state, dt), "
    "now_in AS (SELECT o.orderid, o.state, o.dt, COUNT(*) AS lines FROM orders AS o "
    "WHERE o.orderid IN (SELECT orderid FROM order_days) GROUP BY o.orderid, o.state, o.dt), "
    "order_counts AS (SELECT d.state, d.dt, "
    "SUM((COALESCE(n.lines, 0) > 0)::int - (COALESCE(n.lines, 0) - d.change > 0)::int) AS orders "
    "FROM order_days AS d LEFT JOIN now_in AS n ON n.orderid = d.orderid AND n.state = d.state "
    "AND n.dt IS NOT DISTINCT FROM d.dt GROUP BY d.state, d.dt)"
)


def upsert(rollup, source):
    columns = ", ".join(rollup.keys + rollup.measures)
    additions = ", ".join(f"{measure} = r.{measure} + EXCLUDED.{measure}" for measure in rollup.measures)
    # Key order makes concurrent writers lock rollup rows in the same order (no deadlocks).
    return (
        f"INSERT INTO {rollup.name} AS r ({columns}) {source} ORDER BY {', '.join(rollup.keys)} "
        f"ON CONFLICT ({', '.join(rollup.keys)}) DO UPDATE SET {additions}"
    )


def _append(rollup, source):
    columns = ", ".join(rollup.keys + rollup.measures)
    return f"INSERT INTO {rollup.name} ({columns}) {source} ORDER BY {', '.join(rollup.keys)}"


def compact_delta_log(rollup):
    """One statement: take every row this snapshot sees out of the log and put back one row
    per key; it answers (rows taken, rows put back). Rows that concurrent writers append
    meanwhile are not in the snapshot, so they are neither deleted nor summed: they stay as
    they are, and nothing is counted twice."""
    keys = ", ".join(rollup.keys)
    sums = ", ".join(f"SUM({measure})" for measure in rollup.measures)
    columns = ", ".join(rollup.keys + rollup.measures)
    # A key whose lines sum to zero has no line left at all, so every measure is zero too.
    return (
        f"WITH taken AS (DELETE FROM {rollup.name} RETURNING *), "
        f"folded AS (INSERT INTO {rollup.name} ({columns}) SELECT {keys}, {sums} FROM taken "
        f"GROUP BY {keys} HAVING SUM(lines) <> 0 ORDER BY {keys} RETURNING 1) "
        "SELECT (SELECT count(*) FROM taken), (SELECT count(*) FROM folded)"
    )


# Writers of `orders` need no rights on the rollups: the trigger functions run as their owner
# (whoever ran setup_olap), with the search path fixed when they were created.
_RUN_AS_OWNER = "SECURITY DEFINER SET search_path FROM CURRENT"


def _maintain_function(event):
    # One aggregation of the changed rows at the finest grain, (state, item, day); every
    # rollup is summed from that, which is never larger. The function's own work_mem keeps
    # those hash aggregations of a big statement in memory.
    def sums(keys, source="fine", summed=_SUMMED):
        return f"SELECT {keys}, {summed} FROM {source} WHERE {_not_null(keys.split(', '))} GROUP BY {keys}"

    writes = [
        _append(STATE_ITEM_DAY, sums("state, dt, itemid")),
        upsert(STATE_DAY, sums("dt, state", "state_days", _SUMMED_WITH_ORDERS)),
        upsert(ITEM_DAY, sums("dt, itemid")),
        upsert(STATE_TOTAL, sums("state", "state_days", _SUMMED_WITH_ORDERS)),
        upsert(ITEM_TOTAL, sums("itemid")),
        upsert(STATE_ITEM_TOTAL, sums("state, itemid")),
    ]
    body = (
        f"IF current_setting('{LOADER_WRITES_ROLLUPS}', true) = 'on' THEN RETURN NULL; END IF; "
        f"WITH delta AS ({_DELTAS[event]}), "
        f"fine AS (SELECT state, itemid, dt, {_SIGNED_MEASURES} FROM delta GROUP BY state, itemid, dt), "
        f"{_ORDER_COUNTS}, "
        f"state_days AS (SELECT s.*, COALESCE(c.orders, 0) AS orders FROM ("
        f"SELECT state, dt, {_SUMMED} FROM fine WHERE state IS NOT NULL GROUP BY state, dt) AS s "
        "LEFT JOIN order_counts AS c ON c.state = s.state AND c.dt IS NOT DISTINCT FROM s.dt), "
        + ", ".join(f"w{number} AS ({write})" for number, write in enumerate(writes[:-1]))
        + f" {writes[-1]}; RETURN NULL;"
    )
    return (
        f"CREATE OR REPLACE FUNCTION orders_rollups_after_{event}() RETURNS trigger "
        f"LANGUAGE plpgsql {_RUN_AS_OWNER} SET work_mem = '64MB' AS $$ BEGIN {body} END $$"
    )


def postgresql_trigger_statements():
    statements = []
    for event in ("insert", "delete", "update"):
        statements.append(_maintain_function(event))
        statements.append(
            f"CREATE OR REPLACE TRIGGER orders_rollups_{event} AFTER {event.upper()} ON orders "
            f"{_TRANSITION_TABLES[event]} FOR EACH STATEMENT EXECUTE FUNCTION orders_rollups_after_{event}()"
        )
    tables = ", ".join(rollup.name for rollup in ROLLUPS)
    statements.append(
        "CREATE OR REPLACE FUNCTION orders_rollups_after_truncate() RETURNS trigger "
        f"LANGUAGE plpgsql {_RUN_AS_OWNER} AS $$ BEGIN TRUNCATE {tables}; RETURN NULL; END $$"
    )
    statements.append(
        "CREATE OR REPLACE TRIGGER orders_rollups_truncate AFTER TRUNCATE ON orders "
        "FOR EACH STATEMENT EXECUTE FUNCTION orders_rollups_after_truncate()"
    )
    return statements
