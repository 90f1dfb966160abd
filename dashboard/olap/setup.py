"""Preparing an OLAP database: the orders table and its rollups, for either engine."""

from django.db import transaction

from dashboard.olap.engine import RISINGWAVE, server_engine
from dashboard.olap.schema import (
    CREATE_ORDERS,
    ROLLUPS,
    create_rollup_table,
    fill_rollup,
    postgresql_trigger_statements,
    risingwave_statements,
)
from dashboard.olap.session import without_statement_timeout


def prepare(connection, *, rebuild=False):
    """Create whatever is missing; safe to repeat. Returns (engine, what was done)."""
    with without_statement_timeout(connection):
        return _prepare(connection, rebuild=rebuild)


def _prepare(connection, *, rebuild):
    engine = server_engine(connection)
    if engine == RISINGWAVE:
        # Materialized views backfill themselves and never drift: nothing to rebuild.
        with connection.cursor() as cursor:
            for statement in risingwave_statements():
                cursor.execute(statement)
        return engine, ["orders table and rollup materialized views are in place"]
    return engine, _prepare_postgresql(connection, rebuild=rebuild)


def _prepare_postgresql(connection, *, rebuild):
    done = []
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(CREATE_ORDERS)
        # Writers wait until the rollups and their triggers are in place together, so no
        # row is missed or counted twice.
        cursor.execute("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE")
        for rollup in ROLLUPS:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [rollup.name])
            (existed,) = cursor.fetchone()
            cursor.execute(create_rollup_table(rollup))
            if rebuild or not existed:
                cursor.execute(f"TRUNCATE {rollup.name}")
                cursor.execute(fill_rollup(rollup))
                done.append(
                    f"rebuilt {rollup.name} from orders"
                    if existed
                    else f"created {rollup.name}, filled from orders"
                )
        for statement in postgresql_trigger_statements():
            cursor.execute(statement)
    done.append("rollup triggers are in place")
    return done
