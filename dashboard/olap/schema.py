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


@dataclass(frozen=True)
class Rollup:
    name: str
    keys: tuple  # the primary key, dt first on day grain so date ranges are index scans

    @property
    def day_grain(self):
        return "dt" in self.keys


STATE_DAY = Rollup("orders_state_day", ("dt", "state"))
ITEM_DAY = Rollup("orders_item_day", ("dt", "itemid"))
STATE_TOTAL = Rollup("orders_state_total", ("state",))
ITEM_TOTAL = Rollup("orders_item_total", ("itemid",))
ROLLUPS = (STATE_DAY, ITEM_DAY, STATE_TOTAL, ITEM_TOTAL)


def _not_null(keys):
    return " AND ".join(f"{key} IS NOT NULL" for key in keys)


def _aggregate_orders(rollup):
    """The rollup computed from scratch over `orders`."""
    keys = ", ".join(rollup.keys)
    return (
        f"SELECT {keys}, COUNT(*) AS lines, SUM(qty) AS qty_sum, COUNT(qty) AS qty_lines, "
        f"SUM(qty * price) AS turnover, COUNT(qty * price) AS turnover_lines "
        f"FROM orders WHERE {_not_null(rollup.keys)} GROUP BY {keys}"
    )


# --- RisingWave ------------------------------------------------------------------------


def risingwave_statements():
    statements = [CREATE_ORDERS]
    for rollup in ROLLUPS:
        view = f"CREATE MATERIALIZED VIEW IF NOT EXISTS {rollup.name} AS {_aggregate_orders(rollup)}"
        statements.append(view)
        if rollup.day_grain:
            statements.append(f"CREATE INDEX IF NOT EXISTS {rollup.name}_dt ON {rollup.name} (dt)")
    return statements


# --- PostgreSQL ------------------------------------------------------------------------


def create_rollup_table(rollup):
    keys = ", ".join(f"{key} {KEY_TYPES[key]} NOT NULL" for key in rollup.keys)
    return (
        f"CREATE TABLE IF NOT EXISTS {rollup.name} ({keys}, lines BIGINT NOT NULL, "
        f"qty_sum BIGINT NOT NULL, qty_lines BIGINT NOT NULL, turnover NUMERIC NOT NULL, "
        f"turnover_lines BIGINT NOT NULL, PRIMARY KEY ({', '.join(rollup.keys)}))"
    )


def fill_rollup(rollup):
    """Recompute a (truncated) rollup table from `orders`."""
    return (
        f"INSERT INTO {rollup.name} ({', '.join(rollup.keys + MEASURES)}) "
        f"SELECT {', '.join(rollup.keys)}, lines, COALESCE(qty_sum, 0), qty_lines, "
        f"COALESCE(turnover, 0), turnover_lines FROM ({_aggregate_orders(rollup)}) AS fresh"
    )


# The rows a statement changed, signed +1 (added) or -1 (removed), with each line's qty and
# turnover computed once here: NUMERIC arithmetic is what a bulk load's trigger spends on.
_ADDED = "SELECT state, itemid, dt, 1 AS sign, qty, qty * price AS turnover FROM new_rows"
_REMOVED = "SELECT state, itemid, dt, -1 AS sign, -qty AS qty, -(qty * price) AS turnover FROM old_rows"
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
_SUMMED_MEASURES = ", ".join(f"SUM({measure}) AS {measure}" for measure in MEASURES)


def _upsert(rollup, source):
    columns = ", ".join(rollup.keys + MEASURES)
    additions = ", ".join(f"{measure} = r.{measure} + EXCLUDED.{measure}" for measure in MEASURES)
    # Key order makes concurrent writers lock rollup rows in the same order (no deadlocks).
    return (
        f"INSERT INTO {rollup.name} AS r ({columns}) {source} ORDER BY {', '.join(rollup.keys)} "
        f"ON CONFLICT ({', '.join(rollup.keys)}) DO UPDATE SET {additions}"
    )


# Writers of `orders` need no rights on the rollups: the trigger functions run as their owner
# (whoever ran setup_olap), with the search path fixed when they were created.
_RUN_AS_OWNER = "SECURITY DEFINER SET search_path FROM CURRENT"


def _maintain_function(event):
    # One pass over the changed rows builds both day-grain deltas (GROUPING SETS); the
    # all-time rollups are summed from those, which are far smaller. The function's own
    # work_mem keeps those hash aggregations of a bulk load in memory.
    measures = ", ".join(MEASURES)
    body = (
        "WITH grouped AS ("
        f"SELECT state, itemid, dt, GROUPING(state) AS per_item, {_SIGNED_MEASURES} "
        f"FROM ({_DELTAS[event]}) AS delta GROUP BY GROUPING SETS ((state, dt), (itemid, dt))), "
        f"state_day AS (SELECT state, dt, {measures} FROM grouped "
        "WHERE per_item = 0 AND state IS NOT NULL), "
        f"item_day AS (SELECT itemid, dt, {measures} FROM grouped "
        "WHERE per_item = 1 AND itemid IS NOT NULL), "
        f"w1 AS ({_upsert(STATE_DAY, f'SELECT dt, state, {measures} FROM state_day WHERE dt IS NOT NULL')}), "
        f"w2 AS ({_upsert(ITEM_DAY, f'SELECT dt, itemid, {measures} FROM item_day WHERE dt IS NOT NULL')}), "
        f"w3 AS ({_upsert(STATE_TOTAL, f'SELECT state, {_SUMMED_MEASURES} FROM state_day GROUP BY state')}) "
        f"{_upsert(ITEM_TOTAL, f'SELECT itemid, {_SUMMED_MEASURES} FROM item_day GROUP BY itemid')}"
    )
    return (
        f"CREATE OR REPLACE FUNCTION orders_rollups_after_{event}() RETURNS trigger "
        f"LANGUAGE plpgsql {_RUN_AS_OWNER} SET work_mem = '64MB' AS $$ BEGIN {body}; RETURN NULL; END $$"
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
