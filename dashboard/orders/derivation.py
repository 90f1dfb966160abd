"""Order lines derived from a shop's own tables (a mapped SHOP_SCHEMA: `oscar`, or a mapping
file): the SQL that turns the captured copies of its orders, lines, shipping addresses and
products into the dashboard's lines, for either engine.

A dashboard line is one (order, item) pair of an order that is not cancelled: its lines'
quantities and amounts summed (two shop lines of one product in one order are one line), its
day the order's `placed` in TIME_ZONE, its state the shipping address's, normalised
(dashboard.shop.places): a US address's state written as a code or a name in any case and
spacing, or a territory stored as the country; anything else has no state. Lines of a deleted
product have no item: still sales (headline, trend, states), in no item ranking.

- RisingWave: each captured table is a CDC table from the one postgres-cdc source, under the
  shop's own schema and name; `orders` is a materialized view joining them (a streaming join,
  grouped per (order, item)), and the rollups are views over it, as on the sample table.
- PostgreSQL (the stand-in): logical replication keeps a copy of each table under the same
  name (the subscriber matches tables by schema and name). An inserted order, line or
  address is stamped with the transaction that applied it (a column default: no trigger
  call per row, which would halve the apply's speed); row triggers, which the apply worker
  fires (ENABLE REPLICA) on updates and deletes, note which orders those touch in
  `shop_touched` (a TRUNCATE, which logical replication also carries, notes every order the
  dashboard holds). The capture worker then recomputes the lines of the orders noted and of
  those whose rows were stamped since its last snapshot, adds their lines now and takes off
  the ones `orders` held for them in one statement over the rollups, and replaces those
  lines in `orders` (REPLACE_LINES; its statement triggers skip that write). A new
  capture's triggers start off, so the initial copy of the shop's history costs no call per
  row; once every table is copied, the worker switches them on and recomputes every order.
  The shop's tables keep their default replica identity: the triggers read old values from
  the copy, never from the shop, and an order's lines are always recomputed whole, so
  nothing depends on what a change carried.

Only names from the mapping (checked identifiers, quoted by psycopg2.sql) and values bound as
literals by psycopg2.sql reach the statements' text.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg2 import sql

from dashboard.orders.schema import (
    CREATE_NEWEST_FIRST_INDEX,
    LINE_TURNOVER,
    LOADER_WRITES_ROLLUPS,
    add_changes_to_rollups,
    applied_since,
)
from dashboard.shop.mapping import ShopSchema, Table
from dashboard.shop.places import IGNORED, LOWER, UPPER, state_keys, territory_keys, united_states_keys

# The dashboard's own corner of the shop's database: the heartbeat the capture worker stamps,
# captured with the shop's tables, which says how far behind the figures are. A schema of its
# own, created by `manage.py grant_cdc_access`: the shop's own tables are never altered.
HEARTBEAT_SCHEMA = "dashboard_capture"
HEARTBEAT_TABLE = "cdc_heartbeat"

TOUCHED = "shop_touched"
STATE_NAMES = "shop_state_names"


class ShopSchemaMismatch(Exception):
    """The shop's database lacks a table or column the mapping names, or its type cannot
    serve; the message names the mapping's key."""


# --- What the shop's tables are: their columns' types, read from the shop ---------------

INTEGER_TYPES = {"smallint", "integer", "bigint"}
MONEY_TYPES = {"numeric", "smallint", "integer", "bigint"}
TIME_TYPES = {"timestamp with time zone", "timestamp without time zone", "date"}


@dataclass(frozen=True)
class Columns:
    """{table's qualified name: {column: its type as the shop declares it}}, for the columns
    the mapping reads."""

    types: dict[str, dict[str, str]]

    def of(self, table: Table, column: str) -> str:
        return self.types[table.qualified][column]

    def base(self, table: Table, column: str) -> str:
        """The type without its modifier: numeric(12,2) -> numeric."""
        return self.of(table, column).split("(")[0]


def read_columns(shop: BaseDatabaseWrapper, schema: ShopSchema) -> Columns:
    """The types of every column the mapping reads, checked: each table exists with the
    mapped key as its primary key, and each role's column has a type that can serve it."""
    types: dict[str, dict[str, str]] = {}
    with shop.cursor() as cursor:
        for table in schema.tables:
            cursor.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a "
                "JOIN pg_class AS c ON c.oid = a.attrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped",
                [table.schema, table.name],
            )
            found = dict(cursor.fetchall())
            role = _role(schema, table)
            if not found:
                raise ShopSchemaMismatch(
                    f"{schema.name}: [{role}] table: {table.qualified} does not exist in the shop's database"
                    " (or the capture's user may not see it)"
                )
            for column in table.columns:
                if column not in found:
                    raise ShopSchemaMismatch(
                        f"{schema.name}: [{role}]: {table.qualified} has no column {column!r}"
                    )
            cursor.execute(
                "SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index AS i "
                "JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = to_regclass(%s) AND i.indisprimary",
                [sql.Identifier(table.schema, table.name).as_string(cursor.cursor)],
            )
            (primary,) = cursor.fetchone()
            if primary != [table.key]:
                raise ShopSchemaMismatch(
                    f"{schema.name}: [{role}] key: {table.qualified}'s primary key is "
                    f"{', '.join(primary) if primary else 'missing'}, not {table.key!r} (change data "
                    "capture finds rows by their primary key)"
                )
            types[table.qualified] = {column: found[column] for column in table.columns}
    columns = Columns(types)
    _check_types(schema, columns)
    return columns


def _role(schema: ShopSchema, table: Table) -> str:
    return {
        id(schema.order): "order",
        id(schema.line): "line",
        id(schema.shipping_address): "shipping_address",
        id(schema.product): "product",
    }[id(table)]


def _check_types(schema: ShopSchema, columns: Columns) -> None:
    wanted = [
        (schema.order, "number", schema.order.number, INTEGER_TYPES, "an integer (the dashboard's order id)"),
        (schema.order, "placed", schema.order.placed, TIME_TYPES, "a timestamp or a date"),
        (schema.line, "item", schema.line.item, INTEGER_TYPES, "an integer (the item id)"),
        (schema.line, "quantity", schema.line.quantity, INTEGER_TYPES, "an integer"),
        (schema.line, "amount", schema.line.amount, MONEY_TYPES, "an exact number (numeric)"),
    ]
    for table, key, column, types, what in wanted:
        found = columns.base(table, column)
        if found not in types:
            raise ShopSchemaMismatch(
                f"{schema.name}: [{_role(schema, table)}] {key}: {table.qualified}.{column} is {found}, "
                f"not {what}"
            )
    references: list[tuple[Table, str, str, Table]] = [
        (schema.line, "order", schema.line.order, schema.order)
    ]
    if schema.shipping_address and schema.order.shipping_address:
        references.append(
            (schema.order, "shipping_address", schema.order.shipping_address, schema.shipping_address)
        )
    for table, key, column, target in references:
        if columns.base(table, column) != columns.base(target, target.key):
            raise ShopSchemaMismatch(
                f"{schema.name}: [{_role(schema, table)}] {key}: {table.qualified}.{column} is "
                f"{columns.base(table, column)}, but the key it points at, {target.qualified}.{target.key}, "
                f"is {columns.base(target, target.key)}"
            )


# --- The lines, as one query over the captured tables -----------------------------------


def _ident(*names: str) -> sql.Identifier:
    return sql.Identifier(*names)


def place_key_sql(column: sql.Composable) -> sql.Composed:
    """A place's lookup key in SQL: without spacing and punctuation, upper case (the same as
    places.place_key, tested). One translate(): the letters map to their capitals and the
    characters past the end of the second string (the ignored ones) are dropped; two calls
    cost a bulk recomputation nearly twice as much."""
    return sql.SQL("translate({}, {}, {})").format(column, _text(LOWER + IGNORED), sql.Literal(UPPER))


def _text(text: str) -> sql.Composed:
    """`text` as an SQL string: its printable runs as literals, each other character (a tab,
    a line end, a no-break space) as chr(code), so the statement (and its golden file) holds
    no control characters. Both engines fold the constant once."""
    parts: list[sql.Composable] = []
    run = ""
    for character in text:
        if character.isprintable():
            run += character
            continue
        if run:
            parts.append(sql.Literal(run))
            run = ""
        parts.append(sql.SQL("chr({})").format(sql.Literal(ord(character))))
    if run:
        parts.append(sql.Literal(run))
    return sql.SQL(" || ").join(parts)


def _state(country: sql.Composable | None) -> sql.Composable:
    """An address's state code, from the names joined as `s` (by its state) and `t` (by its
    country, `country` in SQL, None when the mapping has no country: a territory stored as
    the country)."""
    if country is None:
        return sql.SQL("s.code")
    united_states = sql.SQL(", ").join(sql.Literal(key) for key in dict.fromkeys(united_states_keys()))
    return sql.SQL("CASE WHEN {country} IN ({us}) THEN s.code ELSE t.code END").format(
        country=place_key_sql(country), us=united_states
    )


def _day(schema: ShopSchema, columns: Columns) -> sql.Composable:
    placed = sql.SQL("o.{}").format(_ident(schema.order.placed))
    kind = columns.base(schema.order, schema.order.placed)
    if kind == "timestamp with time zone":
        return sql.SQL("({} AT TIME ZONE {})::DATE").format(placed, sql.Literal(settings.TIME_ZONE))
    if kind == "timestamp without time zone":
        return sql.SQL("{}::DATE").format(placed)
    return placed


def _not_cancelled(alias: str, column: str | None, cancelled: tuple[str, ...]) -> sql.Composable | None:
    if column is None or not cancelled:
        return None
    statuses = sql.SQL(", ").join(sql.Literal(status) for status in cancelled)
    return sql.SQL("({alias}.{column} IS NULL OR {alias}.{column} NOT IN ({statuses}))").format(
        alias=sql.SQL(alias), column=_ident(column), statuses=statuses
    )


# Two groupings: each order once (its id, day and state), and each order's lines per item
# (summed on two narrow keys); then joined. On RisingWave an address edit so moves only the
# order's side of the join. On PostgreSQL the orders' side is MATERIALIZED (inlined, the
# planner may join the addresses after the lines and look the state up once per line: it
# did, for a bulk import), and the state is looked up once per way of writing it (`places`:
# each distinct state and country as written), not once per order: per order, the lookups
# took a third of the time a bulk import's lines took to compute (docs/benchmarks.md).
LINES = """\
WITH o AS {materialized}(
    SELECT o.{order_key} AS order_key, o.{number}::BIGINT AS orderid, {day} AS dt,
        {place}
    FROM {order} AS o{touched}{address}
    WHERE {order_kept}
){places}
SELECT o.orderid, l.itemid, l.qty, NULL::NUMERIC AS price, o.dt, {state_of_order}, l.amount
FROM o{place_of_order}
JOIN (
    SELECT l.{line_order} AS order_key, l.{item}::INT AS itemid, SUM(l.{quantity})::INT AS qty,
        SUM(l.{amount}) AS amount
    FROM {line} AS l
    WHERE {line_kept}{line_touched}
    GROUP BY 1, 2
) AS l ON l.order_key = o.order_key"""
TOUCHED_ORDERS = "\n    JOIN {touched} AS touched ON touched.orderid = o.{number}"
TOUCHED_LINES = (
    "\n        AND l.{line_order} IN (\n            SELECT o.{order_key} FROM {order} AS o"
    "\n            JOIN {touched} AS touched ON touched.orderid = o.{number}\n        )"
)

ADDRESS = """
    LEFT JOIN {address} AS a ON a.{address_key} = o.{order_address}"""
STATE_NAME = """
    LEFT JOIN {names} AS s ON s.name = {state_key}"""
TERRITORY = """
    LEFT JOIN {names} AS t ON t.territory AND t.name = {country_key}"""
# PostgreSQL: the state of each way of writing it (the columns of `o` that hold the address's
# state and country as written), joined to the orders by every written column, NULLs
# included (a hash join: IS NOT DISTINCT FROM takes none).
PLACES = """,
places AS MATERIALIZED (
    SELECT {written}, {state} AS state
    FROM (SELECT DISTINCT {written} FROM o) AS a{names}
)"""
PLACE_OF_ORDER = "\nLEFT JOIN places AS p ON {same}"
SAME_WRITTEN = (
    "(p.{column} IS NULL) = (o.{column} IS NULL)"
    " AND COALESCE(p.{column}::TEXT, '') = COALESCE(o.{column}::TEXT, '')"
)
WRITTEN_STATE, WRITTEN_COUNTRY = "written_state", "written_country"


def lines_query(
    schema: ShopSchema, columns: Columns, *, touched: sql.Composable | None = None
) -> sql.Composed:
    """The dashboard's lines (orderid, itemid, qty, price, dt, state, amount) over the captured
    tables: RisingWave's view, or on PostgreSQL only the orders listed in `touched` (a table
    of orderid)."""
    order, line = schema.order, schema.line
    names = {
        "order": _ident(order.schema, order.name),
        "order_key": _ident(order.key),
        "number": _ident(order.number),
        "line_order": _ident(line.order),
    }
    touched_orders: sql.Composable = sql.SQL("")
    touched_lines: sql.Composable = sql.SQL("")
    if touched is not None:
        touched_orders = sql.SQL(TOUCHED_ORDERS).format(touched=touched, **names)
        touched_lines = sql.SQL(TOUCHED_LINES).format(touched=touched, **names)
    return sql.SQL(LINES).format(
        materialized=sql.SQL("" if touched is None else "MATERIALIZED "),
        day=_day(schema, columns),
        touched=touched_orders,
        **_places(schema, per_spelling=touched is not None),
        order_kept=_not_cancelled("o", order.status, schema.cancelled) or sql.SQL("TRUE"),
        item=_ident(line.item),
        quantity=_ident(line.quantity),
        amount=_ident(line.amount),
        line=_ident(line.schema, line.name),
        line_kept=_not_cancelled("l", line.status, schema.cancelled) or sql.SQL("TRUE"),
        line_touched=touched_lines,
        **names,
    )


def _places(schema: ShopSchema, *, per_spelling: bool) -> dict[str, sql.Composable]:
    """LINES' parts that find each order's state: its address joined to the orders, and the
    state looked up in every order's row (RisingWave) or once per way of writing it
    (`per_spelling`, PostgreSQL's recomputation)."""
    order, address = schema.order, schema.shipping_address
    if address is None or order.shipping_address is None:
        return _state_per_order(sql.SQL("NULL::VARCHAR"), sql.SQL(""))
    joined = sql.SQL(ADDRESS).format(
        address=_ident(address.schema, address.name),
        address_key=_ident(address.key),
        order_address=_ident(order.shipping_address),
    )
    # The address's columns, by the role the lookups give them.
    written = {WRITTEN_STATE: address.state}
    if address.country is not None:
        written[WRITTEN_COUNTRY] = address.country
    if not per_spelling:  # read from the address itself
        name_joins, state = _lookups(
            {role: sql.SQL("a.{}").format(_ident(name)) for role, name in written.items()}
        )
        return _state_per_order(state, sql.Composed([joined, name_joins]))
    # Read from the distinct ways of writing them, under the names `o` gives them.
    name_joins, state = _lookups({role: sql.SQL("a.{}").format(_ident(role)) for role in written})
    return {
        "place": sql.SQL(", ").join(
            sql.SQL("a.{} AS {}").format(_ident(name), _ident(role)) for role, name in written.items()
        ),
        "address": joined,
        "places": sql.SQL(PLACES).format(
            written=sql.SQL(", ").join(_ident(role) for role in written), state=state, names=name_joins
        ),
        "state_of_order": sql.SQL("p.state"),
        "place_of_order": sql.SQL(PLACE_OF_ORDER).format(
            same=sql.SQL(" AND ").join(sql.SQL(SAME_WRITTEN).format(column=_ident(role)) for role in written)
        ),
    }


def _state_per_order(state: sql.Composable, address: sql.Composable) -> dict[str, sql.Composable]:
    """LINES' parts for a state computed in each order's row, from `address`'s joins."""
    return {
        "place": sql.SQL("{} AS state").format(state),
        "address": address,
        "places": sql.SQL(""),
        "state_of_order": sql.SQL("o.state"),
        "place_of_order": sql.SQL(""),
    }


def _lookups(column: Mapping[str, sql.Composable]) -> tuple[sql.Composable, sql.Composable]:
    """(the state names' joins, the state) for an address's columns as `column` gives them
    by role (WRITTEN_STATE, and WRITTEN_COUNTRY when the mapping has a country)."""
    joins: sql.Composable = sql.SQL(STATE_NAME).format(
        names=_ident(STATE_NAMES), state_key=place_key_sql(column[WRITTEN_STATE])
    )
    country = column.get(WRITTEN_COUNTRY)
    if country is not None:
        territory = sql.SQL(TERRITORY).format(names=_ident(STATE_NAMES), country_key=place_key_sql(country))
        joins = sql.Composed([joins, territory])
    return joins, _state(country)


def state_name_rows() -> list[tuple[str, str, bool]]:
    """(name, code, territory) for every way a state or territory may be written."""
    territories = territory_keys()
    return [(key, code, key in territories) for key, code in sorted(state_keys().items())]


# --- PostgreSQL (the stand-in): the copies, the triggers, the recomputation -----------------

# The captured tables' column types on PostgreSQL are the shop's own.
CREATE_COPY = "CREATE TABLE IF NOT EXISTS {table} (\n    {columns},\n    PRIMARY KEY ({key})\n)"
CREATE_STATE_NAMES = """\
CREATE TABLE IF NOT EXISTS shop_state_names (
    name VARCHAR,
    code VARCHAR NOT NULL,
    territory BOOLEAN NOT NULL,
    PRIMARY KEY (name)
)"""
CREATE_HEARTBEAT_COPY = (
    "CREATE TABLE IF NOT EXISTS dashboard_capture.cdc_heartbeat (\n"
    "    id INT PRIMARY KEY,\n    beat TIMESTAMPTZ NOT NULL\n)"
)

# Orders a change touched, by the shop's order key or directly by the dashboard's order id;
# duplicates are fine (an order is recomputed once however often it is listed). No key: it is
# appended to by the apply worker and emptied by the capture worker.
CREATE_TOUCHED = "CREATE TABLE IF NOT EXISTS shop_touched (\n    order_key {key_type},\n    orderid BIGINT\n)"

TRIGGER_FUNCTION = """\
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
{body}
RETURN NULL;
END $$"""
CREATE_ROW_TRIGGER = (
    "CREATE OR REPLACE TRIGGER {trigger} AFTER {events} ON {table}\n"
    "FOR EACH ROW EXECUTE FUNCTION {function}()"
)
# An insert into the copy of an order, a line or an address fires no trigger, which would
# halve the apply's speed: the row is stamped with the transaction that applied it, and each
# recomputation notes the orders of the rows stamped since the last one's snapshot
# (TAKE_TOUCHED). Updates and deletes, which a bulk import does not send, note their orders
# through the trigger. A product's insert changes no figure, only labels: its trigger stays.
STAMPED_EVENTS = "UPDATE OR DELETE"
ALL_EVENTS = "INSERT OR UPDATE OR DELETE"
ADD_STAMP = "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS captured_xid XID8 DEFAULT pg_current_xact_id()"
# The index that finds the rows stamped since a snapshot is built when the capture switches
# its triggers on (Recompute.follow), not before the initial copy: that copy's recomputation
# lists every order without it, and one build after the copy costs less than keeping the
# index up row by row through it (a 1M-line history's copies finished 0.5 to 1.2 s sooner
# without it, docs/benchmarks.md).
CREATE_STAMP_INDEX = "CREATE INDEX IF NOT EXISTS {index} ON {table} (captured_xid)"
# The apply worker runs in replica mode: these fire there, and only there (ENABLE REPLICA).
# A new capture starts with them off (DISABLE): the subscription's initial copy of the shop's
# history then costs no trigger call per row, and once every table is copied the capture
# worker switches them on and recomputes every order at once (Recompute.follow and
# every_order, capture.fold).
ENABLE_REPLICA = "ALTER TABLE {table} ENABLE REPLICA TRIGGER {trigger}"
DISABLE = "ALTER TABLE {table} DISABLE TRIGGER {trigger}"


# What a change to a row notes, per role ({row} is NEW, or OLD for the row it replaced).
TOUCH_ORDER = "INSERT INTO shop_touched (orderid) VALUES ({row}.{number})"
TOUCH_LINE = "INSERT INTO shop_touched (order_key) VALUES ({row}.{order})"
TOUCH_ADDRESS = (
    "INSERT INTO shop_touched (orderid) SELECT {number} FROM {order_table} WHERE {address} = {row}.{key}"
)
ROW_CHANGES = """\
IF TG_OP <> 'DELETE' THEN {new}; END IF;
IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.{moved} IS DISTINCT FROM NEW.{moved}) THEN {old}; END IF;"""
# A product: only its title, which labels items; the figures' version moves, so the
# dashboard shows a rename at once.
TOUCH_PRODUCT = "PERFORM nextval('orders_rollups_version');"

# A TRUNCATE of a shop's table reaches its copy too (logical replication carries it), and no
# row trigger sees it: a statement trigger notes every order the dashboard holds, whose lines
# the next recomputation takes again from what is left. A truncated product list only
# relabels (TOUCH_PRODUCT).
TRUNCATED_FUNCTION = "shop_truncated"
TOUCH_EVERY_HELD_ORDER = "INSERT INTO shop_touched (orderid) SELECT DISTINCT orderid FROM orders;"
CREATE_TRUNCATE_TRIGGER = (
    "CREATE OR REPLACE TRIGGER {trigger} AFTER TRUNCATE ON {table}\n"
    "FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
)


def _row_changes(statement: str, moved: str, **names: sql.Composable) -> sql.Composed:
    """A trigger body: `statement` for the new row and, when `moved` changed (or on delete),
    for the old one too."""
    return sql.SQL(ROW_CHANGES).format(
        new=sql.SQL(statement).format(row=sql.SQL("NEW"), **names),
        old=sql.SQL(statement).format(row=sql.SQL("OLD"), **names),
        moved=_ident(moved),
    )


def _trigger_body(schema: ShopSchema, table: Table) -> sql.Composable:
    """What a change to a row of `table` notes."""
    order, line = schema.order, schema.line
    if table is order:
        return _row_changes(TOUCH_ORDER, order.number, number=_ident(order.number))
    if table is line:
        return _row_changes(TOUCH_LINE, line.order, order=_ident(line.order))
    if table is schema.shipping_address and order.shipping_address is not None:
        return _row_changes(
            TOUCH_ADDRESS,
            table.key,
            number=_ident(order.number),
            order_table=_ident(order.schema, order.name),
            address=_ident(order.shipping_address),
            key=_ident(table.key),
        )
    return sql.SQL(TOUCH_PRODUCT)


def stamped_tables(schema: ShopSchema) -> list[Table]:
    """The copies whose inserts are stamped rather than triggered on."""
    tables: list[Table] = [schema.order, schema.line]
    if schema.shipping_address is not None and schema.order.shipping_address is not None:
        tables.append(schema.shipping_address)
    return tables


def _stamp_indexes(schema: ShopSchema) -> list[sql.Composed]:
    return [
        sql.SQL(CREATE_STAMP_INDEX).format(
            index=_ident(f"{table.name}_captured_shop"[:63]), table=_ident(table.schema, table.name)
        )
        for table in stamped_tables(schema)
    ]


def trigger_name(table: Table) -> str:
    return f"shop_touch_{table.name}"[:63]


def truncate_trigger_name(table: Table) -> str:
    return f"shop_truncate_{table.name}"[:63]


def trigger_names(schema: ShopSchema) -> list[str]:
    """Every trigger on the copies: each table's row trigger and its truncate trigger."""
    return [name for table in schema.tables for name in (trigger_name(table), truncate_trigger_name(table))]


def postgresql_statements(
    schema: ShopSchema, columns: Columns, connection: BaseDatabaseWrapper, *, following: bool = False
) -> list[str]:
    """The DDL the stand-in gets for a mapped shop: the copies of the captured tables (and of
    the heartbeat), their indexes and triggers, the touched-orders list and the state names
    (filled separately), as SQL text. The triggers are on when `following`, off for a
    capture whose initial copy is still to come."""

    def text(composed: sql.Composable) -> str:
        return composed.as_string(connection.connection)

    statements = []
    schemas = dict.fromkeys([table.schema for table in schema.tables] + [HEARTBEAT_SCHEMA])
    statements += [text(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(name))) for name in schemas]
    statements.append(CREATE_HEARTBEAT_COPY)
    for table in schema.tables:
        declared = sql.SQL(",\n    ").join(
            sql.SQL("{} {}").format(_ident(column), sql.SQL(columns.of(table, column)))
            for column in table.columns
        )
        statements.append(
            text(
                sql.SQL(CREATE_COPY).format(
                    table=_ident(table.schema, table.name), columns=declared, key=_ident(table.key)
                )
            )
        )
    # What the recomputation and the triggers look rows up by.
    indexes = [(schema.order, schema.order.number), (schema.line, schema.line.order)]
    if schema.order.shipping_address:
        indexes.append((schema.order, schema.order.shipping_address))
    for table, column in indexes:
        if column != table.key:
            statements.append(
                text(
                    sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                        _ident(f"{table.name}_{column}_shop"[:63]),
                        _ident(table.schema, table.name),
                        _ident(column),
                    )
                )
            )
    for table in stamped_tables(schema):
        statements.append(text(sql.SQL(ADD_STAMP).format(table=_ident(table.schema, table.name))))
    if following:
        statements += [text(statement) for statement in _stamp_indexes(schema)]
    statements.append(CREATE_TOUCHED.format(key_type=columns.of(schema.order, schema.order.key)))
    statements.append(CREATE_STATE_NAMES)
    stamped = stamped_tables(schema)
    truncated = _ident(TRUNCATED_FUNCTION)
    statements.append(
        text(sql.SQL(TRIGGER_FUNCTION).format(function=truncated, body=sql.SQL(TOUCH_EVERY_HELD_ORDER)))
    )
    switch = ENABLE_REPLICA if following else DISABLE
    for table in schema.tables:
        function = _ident(trigger_name(table))
        qualified = _ident(table.schema, table.name)
        statements.append(
            text(sql.SQL(TRIGGER_FUNCTION).format(function=function, body=_trigger_body(schema, table)))
        )
        is_stamped = any(table is one for one in stamped)
        events = sql.SQL(STAMPED_EVENTS if is_stamped else ALL_EVENTS)
        statements.append(
            text(
                sql.SQL(CREATE_ROW_TRIGGER).format(
                    trigger=function, events=events, table=qualified, function=function
                )
            )
        )
        statements.append(text(sql.SQL(switch).format(table=qualified, trigger=function)))
        on_truncate = _ident(truncate_trigger_name(table))
        statements.append(
            text(
                sql.SQL(CREATE_TRUNCATE_TRIGGER).format(
                    trigger=on_truncate, table=qualified, function=truncated if is_stamped else function
                )
            )
        )
        statements.append(text(sql.SQL(switch).format(table=qualified, trigger=on_truncate)))
    return statements


# Whether the capture is following the shop's changes (its triggers on), and whether the
# subscription's initial copy of every table is done (then the triggers may go on).
FOLLOWING = "SELECT bool_and(tgenabled = 'R') FROM pg_trigger WHERE tgname = ANY(%s)"
COPIES_PENDING = """\
SELECT count(*) FROM pg_subscription_rel
WHERE srsubstate <> 'r' AND srsubid IN (
    SELECT oid FROM pg_subscription
    WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
)"""
# Straight into this recomputation's list: through shop_touched and TAKE_TOUCHED, which
# would also gather every row stamped since no snapshot at all, it cost the initial snapshot
# a tenth of its time.
NOTE_EVERY_ORDER = "INSERT INTO pg_temp.shop_touched_now (orderid) SELECT {number} FROM {order}"


@dataclass(frozen=True)
class Recompute:
    """A mapped shop's recomputation on the stand-in, as SQL text: `statements` (take the
    touched orders, compute their lines, replace the lines held for them: one transaction),
    `follow` (index the stamps and switch the triggers on: once, when the initial copy is
    done) and `every_order` (note every order for the recomputation then, instead of taking
    the touched ones), with the `triggers`' names, `analyze` (in a big fold, once its orders
    are taken: fresh statistics for the tables the rest reads) and `tidy` (after a big fold,
    outside a transaction: VACUUM the touched-orders list)."""

    statements: list[str]
    follow: list[str]
    every_order: str
    triggers: list[str]
    analyze: str
    tidy: list[str]


FILL_STATE_NAMES = (
    "INSERT INTO shop_state_names (name, code, territory) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
)

# The orders touched since the last recomputation, and their lines now: per session,
# emptied when the transaction ends.
CREATE_TOUCHED_NOW = "CREATE TEMP TABLE IF NOT EXISTS shop_touched_now (orderid BIGINT) ON COMMIT DELETE ROWS"
CREATE_LINES_NOW = (
    "CREATE TEMP TABLE IF NOT EXISTS shop_lines_now (orderid BIGINT, itemid INT, qty INT, price NUMERIC, "
    "dt DATE, state VARCHAR, amount NUMERIC) ON COMMIT DELETE ROWS"
)
# The orders noted by the triggers (taken out of the list), and those of the rows stamped
# since the last recomputation's snapshot (%(previous)s, bound; the caller keeps a snapshot
# taken before this statement as the next one's, so a row is noted at least once: twice is
# harmless, an order's lines being recomputed whole).
TAKE_TOUCHED = """\
WITH taken AS (DELETE FROM shop_touched RETURNING order_key, orderid)
INSERT INTO pg_temp.shop_touched_now (orderid)
SELECT orderid FROM taken WHERE orderid IS NOT NULL
UNION
SELECT o.{number} FROM {order} AS o
WHERE o.{key} IN (SELECT order_key FROM taken WHERE order_key IS NOT NULL){stamped}"""
STAMPED_SINCE = applied_since("{alias}.captured_xid", "%(previous)s::pg_snapshot")
STAMPED_ORDERS = "\nUNION\nSELECT o.{number} FROM {order} AS o WHERE {since}"
STAMPED_LINES = (
    "\nUNION\nSELECT o.{number} FROM {line} AS l JOIN {order} AS o ON o.{key} = l.{line_order} WHERE {since}"
)
# Where the order's key is its number (oscar's), a line names its order's number itself.
STAMPED_LINES_BY_NUMBER = "\nUNION\nSELECT l.{line_order} FROM {line} AS l WHERE {since}"
STAMPED_ADDRESSES = (
    "\nUNION\nSELECT o.{number} FROM {address} AS a JOIN {order} AS o ON o.{order_address} = a.{address_key} "
    "WHERE {since}"
)
COMPUTE_LINES = "INSERT INTO pg_temp.shop_lines_now\n{lines}"
HELD = "FROM orders WHERE orderid IN (SELECT orderid FROM pg_temp.shop_touched_now)"
# The touched orders' lines are replaced whole: their lines now added (+1) and the ones the
# dashboard holds taken off (-1), in one statement over the rollups that counts orders from
# those rows alone (both sides of every order are there); then, with the rollups' triggers
# skipping (they would count the same rows again), the held lines go and the new ones come.
# An unchanged line so adds and takes off the same figures: no difference to compute first,
# which cost as much as the rest for a bulk import, whose orders are all new.
ADD_TO_ROLLUPS = add_changes_to_rollups(
    f"SELECT orderid, state, itemid, dt, 1 AS sign, qty, {LINE_TURNOVER} AS turnover\n"
    "FROM pg_temp.shop_lines_now\n"
    "UNION ALL\n"
    f"SELECT orderid, state, itemid, dt, -1, -qty, -{LINE_TURNOVER}\n{HELD}",
    whole_orders=True,
)
SKIP_ROLLUP_TRIGGERS = f"SELECT set_config('{LOADER_WRITES_ROLLUPS}', 'on', true)"
REMOVE_HELD = f"DELETE {HELD}"
ADD_LINES = (
    "INSERT INTO orders (orderid, itemid, qty, price, dt, state, amount)\n"
    "SELECT orderid, itemid, qty, price, dt, state, amount FROM pg_temp.shop_lines_now"
)
RESUME_ROLLUP_TRIGGERS = f"SELECT set_config('{LOADER_WRITES_ROLLUPS}', 'off', true)"
REPLACE_LINES = [ADD_TO_ROLLUPS, SKIP_ROLLUP_TRIGGERS, REMOVE_HELD, ADD_LINES, RESUME_ROLLUP_TRIGGERS]


def recomputation(schema: ShopSchema, columns: Columns, connection: BaseDatabaseWrapper) -> Recompute:
    follow = [index.as_string(connection.connection) for index in _stamp_indexes(schema)]
    follow += [
        sql.SQL(ENABLE_REPLICA)
        .format(table=_ident(table.schema, table.name), trigger=_ident(name))
        .as_string(connection.connection)
        for table in schema.tables
        for name in (trigger_name(table), truncate_trigger_name(table))
    ]
    every_order = sql.SQL(NOTE_EVERY_ORDER).format(
        number=_ident(schema.order.number), order=_ident(schema.order.schema, schema.order.name)
    )

    # The copies and the dashboard's lines, whose statistics a bulk import or the initial
    # snapshot leaves behind: planned from them (a table analysed while empty counts as one
    # row), the recomputation would loop over the copies once per touched order.
    analyze = sql.SQL("ANALYZE {}").format(
        sql.SQL(", ").join([_ident(table.schema, table.name) for table in schema.tables] + [_ident("orders")])
    )
    tidy = [sql.SQL("VACUUM {}").format(_ident(TOUCHED)).as_string(connection.connection)]
    return Recompute(
        recompute_statements(schema, columns, connection),
        follow,
        every_order.as_string(connection.connection),
        trigger_names(schema),
        analyze.as_string(connection.connection),
        tidy,
    )


def recompute_statements(schema: ShopSchema, columns: Columns, connection: BaseDatabaseWrapper) -> list[str]:
    """The recomputation, in order: take the touched orders, compute their lines, then
    replace the lines held for them (REPLACE_LINES). Run in one transaction."""
    order, line, address = schema.order, schema.line, schema.shipping_address
    names = {
        "number": _ident(order.number),
        "order": _ident(order.schema, order.name),
        "key": _ident(order.key),
    }
    stamped = [
        sql.SQL(STAMPED_ORDERS).format(since=sql.SQL(STAMPED_SINCE.format(alias="o")), **names),
        sql.SQL(STAMPED_LINES_BY_NUMBER if order.number == order.key else STAMPED_LINES).format(
            since=sql.SQL(STAMPED_SINCE.format(alias="l")),
            line=_ident(line.schema, line.name),
            line_order=_ident(line.order),
            **names,
        ),
    ]
    if address is not None and order.shipping_address is not None:
        stamped.append(
            sql.SQL(STAMPED_ADDRESSES).format(
                since=sql.SQL(STAMPED_SINCE.format(alias="a")),
                address=_ident(address.schema, address.name),
                order_address=_ident(order.shipping_address),
                address_key=_ident(address.key),
                **names,
            )
        )
    take = sql.SQL(TAKE_TOUCHED).format(stamped=sql.Composed(stamped), **names)
    compute = sql.SQL(COMPUTE_LINES).format(
        lines=lines_query(schema, columns, touched=sql.SQL("pg_temp.shop_touched_now"))
    )
    return [take.as_string(connection.connection), compute.as_string(connection.connection), *REPLACE_LINES]


# --- RisingWave: CDC tables, the lines as a materialized view ------------------------------

# The shop's column types as RisingWave declares them: no NUMERIC(p, s) or VARCHAR(n), and no
# UUID type (its postgres-cdc connector reads a uuid as text).
RISINGWAVE_TYPES = {
    "smallint": "SMALLINT",
    "integer": "INT",
    "bigint": "BIGINT",
    "numeric": "NUMERIC",
    "character varying": "VARCHAR",
    "character": "VARCHAR",
    "text": "VARCHAR",
    "uuid": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp with time zone": "TIMESTAMPTZ",
    "timestamp without time zone": "TIMESTAMP",
    "double precision": "DOUBLE PRECISION",
    "real": "REAL",
}

CREATE_CDC_TABLE = (
    "CREATE TABLE IF NOT EXISTS {table} (\n    {columns},\n    PRIMARY KEY ({key})\n"
    ") FROM shop_orders_cdc TABLE {upstream}"
)
CREATE_HEARTBEAT_CDC_TABLE = (
    "CREATE TABLE IF NOT EXISTS dashboard_capture.cdc_heartbeat (\n    id INT,\n    beat TIMESTAMPTZ,\n"
    "    PRIMARY KEY (id)\n) FROM shop_orders_cdc TABLE 'dashboard_capture.cdc_heartbeat'"
)
CREATE_LINES_VIEW = "CREATE MATERIALIZED VIEW IF NOT EXISTS orders AS\n{lines}"


def risingwave_type(schema: ShopSchema, table: Table, column: str, columns: Columns) -> str:
    found = columns.base(table, column)
    if found not in RISINGWAVE_TYPES:
        raise ShopSchemaMismatch(
            f"{schema.name}: [{_role(schema, table)}]: {table.qualified}.{column} is {found}, which the "
            "RisingWave capture does not read"
        )
    return RISINGWAVE_TYPES[found]


def risingwave_statements(schema: ShopSchema, columns: Columns, connection: BaseDatabaseWrapper) -> list[str]:
    """The DDL RisingWave gets for a mapped shop after its source (schema.CREATE_CDC_SOURCE):
    the CDC tables, the state names (filled by an INSERT and a FLUSH), the lines view; the
    rollup views over it follow (schema.risingwave_view_statements)."""

    def text(composed: sql.Composable) -> str:
        return composed.as_string(connection.connection)

    schemas = dict.fromkeys(
        [table.schema for table in schema.tables if table.schema != "public"] + [HEARTBEAT_SCHEMA]
    )
    statements = [text(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(name))) for name in schemas]
    statements.append(CREATE_HEARTBEAT_CDC_TABLE)
    for table in schema.tables:
        declared = sql.SQL(",\n    ").join(
            sql.SQL("{} {}").format(_ident(column), sql.SQL(risingwave_type(schema, table, column, columns)))
            for column in table.columns
        )
        statements.append(
            text(
                sql.SQL(CREATE_CDC_TABLE).format(
                    table=_ident(table.schema, table.name),
                    columns=declared,
                    key=_ident(table.key),
                    upstream=sql.Literal(table.qualified),
                )
            )
        )
    statements.append(CREATE_STATE_NAMES)
    rows = sql.SQL(",\n    ").join(
        sql.SQL("({}, {}, {})").format(sql.Literal(name), sql.Literal(code), sql.Literal(territory))
        for name, code, territory in state_name_rows()
    )
    statements.append(
        text(sql.SQL("INSERT INTO shop_state_names (name, code, territory) VALUES\n    {}").format(rows))
    )
    statements.append("FLUSH")
    statements.append(text(sql.SQL(CREATE_LINES_VIEW).format(lines=lines_query(schema, columns))))
    # The order browser's newest-first pages, as on the sample table (dashboard/orders/browser.py).
    statements.append(CREATE_NEWEST_FIRST_INDEX)
    return statements
