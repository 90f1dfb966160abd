"""Compacting the delta-log rollups on PostgreSQL: every live write appends a few rows, and
readers sum them per key, so a long live stream slows reads down until the log is folded
back to one row per key. RisingWave keeps these rollups as materialized views: nothing to do.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

from dashboard.orders.engine import RISINGWAVE, server_engine
from dashboard.orders.schema import ROLLUPS, compact_delta_log
from dashboard.orders.session import without_statement_timeout


def compact(connection: BaseDatabaseWrapper) -> list[tuple[str, int, int]] | None:
    """Fold each delta log to one row per key: [(rollup name, rows before, rows after)],
    or None on RisingWave."""
    if server_engine(connection) == RISINGWAVE:
        return None
    done: list[tuple[str, int, int]] = []
    with without_statement_timeout(connection):
        for rollup in ROLLUPS:
            if not rollup.delta_log:
                continue
            with connection.cursor() as cursor:
                cursor.execute(compact_delta_log(rollup))
                done.append((rollup.name, *cursor.fetchone()))
    return done
