"""Preparing an OLAP database: the orders table and its rollups, for either engine."""

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from dashboard.orders.engine import RISINGWAVE, server_engine
from dashboard.orders.schema import (
    CREATE_ORDERS,
    ROLLUPS,
    Rollup,
    create_rollup_statements,
    fill_rollup,
    postgresql_trigger_statements,
    risingwave_statements,
)
from dashboard.orders.session import without_statement_timeout


def prepare(connection: BaseDatabaseWrapper, *, rebuild: bool = False) -> tuple[str, list[str]]:
    """Create whatever is missing; safe to repeat. Returns (engine, what was done)."""
    with without_statement_timeout(connection):
        return _prepare(connection, rebuild=rebuild)


def _prepare(connection: BaseDatabaseWrapper, *, rebuild: bool) -> tuple[str, list[str]]:
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
        # Writers wait until the rollups and their triggers are in place together, so no
        # row is missed or counted twice.
        cursor.execute("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE")
        for rollup in ROLLUPS:
            outdated = _outdated(cursor, rollup)
            if outdated:
                cursor.execute(f"DROP TABLE {rollup.name}")
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [rollup.name])
            (existed,) = cursor.fetchone()
            for statement in create_rollup_statements(rollup):
                cursor.execute(statement)
            if rebuild or not existed:
                cursor.execute(f"TRUNCATE {rollup.name}")
                cursor.execute(fill_rollup(rollup))
                if outdated:
                    done.append(f"rebuilt {rollup.name} from orders: its columns changed")
                elif existed:
                    done.append(f"rebuilt {rollup.name} from orders")
                else:
                    done.append(f"created {rollup.name}, filled from orders")
        for statement in postgresql_trigger_statements():
            cursor.execute(statement)
    done.append("rollup triggers are in place")
    return done
