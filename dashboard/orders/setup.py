"""Preparing an OLAP database: the orders table and its rollups, for either engine, and with
ORDERS_SOURCE=cdc the capture that fills the table from the shop's database."""

import time
from collections.abc import Callable

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from psycopg2 import sql

from dashboard.orders import capture, derivation
from dashboard.orders.engine import RISINGWAVE, server_engine
from dashboard.orders.schema import (
    ADD_AMOUNT,
    BOOKKEEPING,
    CHANGE_LOG,
    CREATE_CDC_SOURCE,
    CREATE_ORDERS,
    CREATE_SHOP_LINES,
    CREATE_SHOP_LINES_KEY,
    MIRROR_CHANNEL,
    ORDERS_IS_CAPTURED,
    ROLLUPS,
    SHOP_LINES_KEY,
    STAMP_APPLIED_ROWS,
    Rollup,
    create_rollup_statements,
    fill_rollup,
    postgresql_trigger_statements,
    risingwave_capture_statements,
    risingwave_statements,
    risingwave_view_statements,
)
from dashboard.orders.session import without_statement_timeout
from dashboard.shop.mapping import ShopSchema


def prepare(
    connection: BaseDatabaseWrapper,
    *,
    rebuild: bool = False,
    shop: BaseDatabaseWrapper | None = None,
    schema: ShopSchema | None = None,
) -> tuple[str, list[str]]:
    """Create whatever is missing; safe to repeat. Returns (engine, what was done). Given the
    shop's database, `shop`, the orders are captured from it (ORDERS_SOURCE=cdc): its sample
    table, or with a mapped `schema` the lines derived from its own tables."""
    with without_statement_timeout(connection):
        engine = server_engine(connection)
        columns = None
        if shop is not None and schema is not None:
            # Checked against the shop's database before anything changes on either side.
            columns = derivation.read_columns(shop, schema)
        done = _prepare(connection, engine, rebuild=rebuild, captured=shop is not None, mapped=schema)
        if shop is not None:
            done += _prepare_capture(connection, shop, engine, schema, columns)
    return engine, done


def _prepare_capture(
    olap: BaseDatabaseWrapper,
    shop: BaseDatabaseWrapper,
    engine: str,
    schema: ShopSchema | None,
    columns: derivation.Columns | None,
) -> list[str]:
    done = []
    wanted = capture.captured(schema, column_lists=engine != RISINGWAVE)
    if capture.ensure_publication(shop, wanted):
        names = ", ".join(f"{table_schema}.{table}" for table_schema, table, _ in wanted.tables)
        done.append(f"published {names} in the shop's database")
    source = capture.Source.from_settings()
    if engine == RISINGWAVE:
        return done + _prepare_risingwave_capture(olap, source, schema, columns)
    if schema is None:
        return done + capture.ensure_subscription(olap, source)
    assert columns is not None
    olap.ensure_connection()
    with transaction.atomic(using=olap.alias), olap.cursor() as cursor:
        slot = capture.slot_name(olap.settings_dict["NAME"])
        subscribed = capture.subscription_enabled(olap, slot) is not None
        # A capture under way keeps its triggers as they are: on once following the shop,
        # off while its initial copy is still to be switched over (capture.fold does it).
        following = False
        if subscribed:
            triggers = derivation.trigger_names(schema)
            cursor.execute(derivation.FOLLOWING, [triggers])
            following = bool(cursor.fetchone()[0])
        if not subscribed:
            # Not capturing yet: copies and the touched-orders list left from an earlier
            # capture (of another schema, say) go; the new subscription's initial copy fills
            # the copies again, and the list takes the order key's type.
            for table in schema.tables:
                copy = sql.Identifier(table.schema, table.name)
                cursor.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(copy))
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(derivation.TOUCHED)))
        for statement in derivation.postgresql_statements(schema, columns, olap, following=following):
            cursor.execute(statement)
        cursor.executemany(derivation.FILL_STATE_NAMES, derivation.state_name_rows())
    done.append(f"copies of {schema.name}'s tables and their triggers are in place")
    copies = (
        "orders",
        f"{derivation.HEARTBEAT_SCHEMA}.{derivation.HEARTBEAT_TABLE}",
        derivation.TOUCHED,
        *(table.qualified for table in schema.tables),
    )
    return done + capture.ensure_subscription(olap, source, copies)


# CREATE SOURCE fails when the shop's PostgreSQL does not answer at that moment (at start-up
# of a whole stack, say): wait for it, within a bound, saying what for.
SOURCE_ATTEMPTS = 30
SOURCE_RETRY_SECONDS = 2.0


def _prepare_risingwave_capture(
    olap: BaseDatabaseWrapper,
    source: capture.Source,
    schema: ShopSchema | None = None,
    columns: derivation.Columns | None = None,
    *,
    say: Callable[[str], None] = print,
) -> list[str]:
    done = []
    params = {
        "host": source.host,
        "port": str(source.port),
        "user": source.user,
        "password": source.password,
        "database": source.database,
        "slot": capture.slot_name(olap.settings_dict["NAME"]),
        "publication": capture.PUBLICATION,
    }
    with olap.cursor() as cursor:
        cursor.execute(ORDERS_IS_CAPTURED)
        row = cursor.fetchone()
        if row is not None and not row[0]:
            # A table loaded directly cannot become a captured one: the views and the table go,
            # and the capture's backfill brings the shop's rows.
            for rollup in ROLLUPS:
                cursor.execute(f"DROP MATERIALIZED VIEW IF EXISTS {rollup.name}")
            cursor.execute("DROP TABLE orders")
            done.append("dropped the orders table loaded directly: the shop's orders replace it")
        for attempt in range(1, SOURCE_ATTEMPTS + 1):
            try:
                cursor.execute(CREATE_CDC_SOURCE, params)
                break
            except DatabaseError as error:
                if attempt == SOURCE_ATTEMPTS:
                    raise
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                say(
                    f"waiting for the shop's PostgreSQL at {source.host}:{source.port} to accept the "
                    f"capture (attempt {attempt} of {SOURCE_ATTEMPTS}): {reason}"
                )
                time.sleep(SOURCE_RETRY_SECONDS)
        if schema is None:
            statements = risingwave_capture_statements()[1:]
        else:
            assert columns is not None
            statements = [
                *derivation.risingwave_statements(schema, columns, olap),
                *risingwave_view_statements(),
            ]
        for statement in statements:
            cursor.execute(statement)
    return [*done, f"capturing orders from {source.database} on {source.host}:{source.port}; views in place"]


def _prepare(
    connection: BaseDatabaseWrapper, engine: str, *, rebuild: bool, captured: bool, mapped: ShopSchema | None
) -> list[str]:
    if engine == RISINGWAVE:
        # Materialized views backfill themselves and never drift: nothing to rebuild, only
        # views from an older version of this schema to replace.
        done: list[str] = []
        with connection.cursor() as cursor:
            for rollup in ROLLUPS:
                if _outdated(cursor, rollup):
                    cursor.execute(f"DROP MATERIALIZED VIEW {rollup.name}")
                    done.append(f"dropped {rollup.name}: its columns changed")
            if captured:  # the capture creates the table, from its source, then the views
                return done
            for statement in risingwave_statements():
                cursor.execute(statement)
            if "amount" not in existing_columns(cursor, "orders"):
                cursor.execute("ALTER TABLE orders ADD COLUMN amount NUMERIC")
        return [*done, "orders table and rollup materialized views are in place"]
    return _prepare_postgresql(connection, rebuild=rebuild, mapped=mapped is not None, captured=captured)


def _key_orders(cursor: CursorWrapper, *, mapped: bool) -> list[str]:
    """Give `orders` the key its source needs: the sample table's primary key, or for lines
    derived from a mapped shop a unique index that lets a line have no item. Switching
    empties it (and the rollups, by the truncate trigger): the new source fills it again."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'p')"
    )
    (has_primary_key,) = cursor.fetchone()
    if mapped and has_primary_key:
        cursor.execute("TRUNCATE orders")
        cursor.execute("ALTER TABLE orders DROP CONSTRAINT orders_pkey, ALTER COLUMN itemid DROP NOT NULL")
        cursor.execute(CREATE_SHOP_LINES_KEY)
        return ["orders: keyed for lines derived from the shop's tables (emptied; they are derived again)"]
    if mapped:
        cursor.execute(CREATE_SHOP_LINES_KEY)
    elif not has_primary_key:
        cursor.execute("TRUNCATE orders")
        cursor.execute(f"DROP INDEX IF EXISTS {SHOP_LINES_KEY}")
        cursor.execute("ALTER TABLE orders ADD PRIMARY KEY (orderid, itemid)")
        return ["orders: keyed for the sample table again (emptied)"]
    return []


def existing_columns(cursor: CursorWrapper, name: str) -> set[str]:
    """The column names of table or view `name` in the current schema (none if it is missing)."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s",
        [name],
    )
    return {column for (column,) in cursor.fetchall()}


def _outdated(cursor: CursorWrapper, rollup: Rollup) -> bool:
    """Whether an older version of the rollup exists, with other columns than this one's."""
    columns = existing_columns(cursor, rollup.name)
    return bool(columns) and columns != set(rollup.columns)


def _prepare_postgresql(
    connection: BaseDatabaseWrapper, *, rebuild: bool, mapped: bool, captured: bool
) -> list[str]:
    done: list[str] = []
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(CREATE_SHOP_LINES if mapped else CREATE_ORDERS)
        cursor.execute(ADD_AMOUNT)
        done += _key_orders(cursor, mapped=mapped)
        for statement in BOOKKEEPING:
            cursor.execute(statement)
        # Writers (and the apply worker) wait until the rollups and their triggers are in
        # place together, so no row is missed or counted twice.
        cursor.execute("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE")
        filled = []
        for rollup in ROLLUPS:
            outdated = _outdated(cursor, rollup)
            if outdated:
                cursor.execute(f"DROP TABLE {rollup.name}")
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [rollup.name])
            (existed,) = cursor.fetchone()
            for statement in create_rollup_statements(rollup):
                cursor.execute(statement)
            if rebuild or not existed:
                filled.append(rollup)
                if outdated:
                    done.append(f"rebuilt {rollup.name} from orders: its columns changed")
                elif existed:
                    done.append(f"rebuilt {rollup.name} from orders")
                else:
                    done.append(f"created {rollup.name}, filled from orders")
        if filled and len(filled) < len(ROLLUPS):
            # Filling empties the change log (below), whose changes the rollups kept as they
            # are have yet to fold: they are filled again from `orders` too (a rollup added by
            # an upgrade rebuilds them all, once).
            filled = list(ROLLUPS)
            done.append("rebuilt the other rollups from orders with it")
        if filled:
            # A rollup filled from `orders` already holds the replicated changes waiting to be
            # folded: folding them later would count them twice. With writers locked out,
            # this snapshot sees what the fill reads; the capture's next fold starts from it.
            cursor.execute(f"TRUNCATE {CHANGE_LOG}")
        if filled and captured and not mapped:
            cursor.execute(
                "INSERT INTO cdc_progress (id, folded_at, folded_snapshot) "
                "VALUES (1, now(), pg_current_snapshot()) "
                "ON CONFLICT (id) DO UPDATE SET folded_snapshot = EXCLUDED.folded_snapshot"
            )
        for rollup in filled:
            cursor.execute(f"TRUNCATE {rollup.name}")
            cursor.execute(fill_rollup(rollup))
        for statement in postgresql_trigger_statements():
            cursor.execute(statement)
        # A rollup rebuilt above was filled before its triggers were in place: the web
        # processes' mirrors read everything again at this commit.
        cursor.execute("SELECT pg_notify(%s, 'all')", [MIRROR_CHANNEL])
        if captured and not mapped:
            # Rows the subscription applies are stamped for the fold, and direct writers'
            # rows are not (the statements above leave the column without a default and the
            # table without that trigger, as a table that is not captured wants them).
            for statement in STAMP_APPLIED_ROWS:
                cursor.execute(statement)
    done.append("rollup triggers are in place")
    return done
