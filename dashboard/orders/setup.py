"""Preparing an OLAP database: the orders table and its rollups, for either engine, and with
ORDERS_SOURCE=cdc the capture that fills the table from the shop's database."""

import time
from collections.abc import Callable

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from dashboard.orders import capture
from dashboard.orders.engine import RISINGWAVE, server_engine
from dashboard.orders.schema import (
    BOOKKEEPING,
    CHANGE_LOG,
    CREATE_CDC_SOURCE,
    CREATE_ORDERS,
    ORDERS_IS_CAPTURED,
    ROLLUPS,
    Rollup,
    create_rollup_statements,
    fill_rollup,
    postgresql_trigger_statements,
    risingwave_capture_statements,
    risingwave_statements,
)
from dashboard.orders.session import without_statement_timeout


def prepare(
    connection: BaseDatabaseWrapper, *, rebuild: bool = False, shop: BaseDatabaseWrapper | None = None
) -> tuple[str, list[str]]:
    """Create whatever is missing; safe to repeat. Returns (engine, what was done). Given the
    shop's database, `shop`, the orders are captured from it (ORDERS_SOURCE=cdc)."""
    with without_statement_timeout(connection):
        engine, done = _prepare(connection, rebuild=rebuild, captured=shop is not None)
        if shop is not None:
            done += _prepare_capture(connection, shop, engine)
    return engine, done


def _prepare_capture(olap: BaseDatabaseWrapper, shop: BaseDatabaseWrapper, engine: str) -> list[str]:
    done = []
    if capture.ensure_publication(shop):
        done.append(f"published {', '.join(capture.CAPTURED_TABLES)} in the shop's database")
    source = capture.Source.from_settings()
    if engine == RISINGWAVE:
        return done + _prepare_risingwave_capture(olap, source)
    return done + capture.ensure_subscription(olap, source)


# CREATE SOURCE fails when the shop's PostgreSQL does not answer at that moment (at start-up
# of a whole stack, say): wait for it, within a bound, saying what for.
SOURCE_ATTEMPTS = 30
SOURCE_RETRY_SECONDS = 2.0


def _prepare_risingwave_capture(
    olap: BaseDatabaseWrapper, source: capture.Source, *, say: Callable[[str], None] = print
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
        for statement in risingwave_capture_statements()[1:]:
            cursor.execute(statement)
    return [*done, f"capturing orders from {source.database} on {source.host}:{source.port}; views in place"]


def _prepare(connection: BaseDatabaseWrapper, *, rebuild: bool, captured: bool) -> tuple[str, list[str]]:
    engine = server_engine(connection)
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
                return engine, done
            for statement in risingwave_statements():
                cursor.execute(statement)
        return engine, [*done, "orders table and rollup materialized views are in place"]
    return engine, _prepare_postgresql(connection, rebuild=rebuild)


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


def _prepare_postgresql(connection: BaseDatabaseWrapper, *, rebuild: bool) -> list[str]:
    done: list[str] = []
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(CREATE_ORDERS)
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
        if filled:
            # A rollup filled from `orders` already holds the replicated changes waiting in
            # the log: folding them later would count them twice.
            cursor.execute(f"TRUNCATE {CHANGE_LOG}")
        for rollup in filled:
            cursor.execute(f"TRUNCATE {rollup.name}")
            cursor.execute(fill_rollup(rollup))
        for statement in postgresql_trigger_statements():
            cursor.execute(statement)
    done.append("rollup triggers are in place")
    return done
