"""Per-connection settings for the OLAP database."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

from dashboard.dbrouter import OLAP
from dashboard.orders.engine import RISINGWAVE, known_engine

# RisingWave has no "no limit": there `SET statement_timeout = 0` means the server's batch
# default, statement_timeout_in_sec, 3600 s unless configured (v3.0.3: src/frontend/src/
# session.rs, statement_timeout(); src/common/src/config/batch.rs). So "no limit" is sent as a
# day, explicitly. (It bounds queries only: RisingWave never cancels INSERT, UPDATE or DELETE
# by it, so a load's writes run as long as they need either way.)
RISINGWAVE_NO_LIMIT = "86400s"


def statement_timeout_value(milliseconds: int, engine: str) -> str:
    """The value of `SET statement_timeout` for a limit of `milliseconds` (0: none) on `engine`.

    A limit is sent with its unit, '5000ms': the form RisingWave documents, which PostgreSQL
    reads the same. (RisingWave v3.0 also takes a bare number, as milliseconds, but v2.7 and
    before read a bare number as seconds: src/common/src/session_config/statement_timeout.rs.)
    """
    if milliseconds:
        return f"{milliseconds}ms"
    return RISINGWAVE_NO_LIMIT if engine == RISINGWAVE else "0"


def set_statement_timeout(connection: BaseDatabaseWrapper, milliseconds: int) -> None:
    value = statement_timeout_value(milliseconds, known_engine(connection))
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = %s", [value])


def on_connection_created(
    sender: type[BaseDatabaseWrapper], connection: BaseDatabaseWrapper, **kwargs: Any
) -> None:
    """Bound every query the site sends to the OLAP side, so a slow one cannot hold a worker."""
    if connection.alias == OLAP:
        set_statement_timeout(connection, settings.OLAP_STATEMENT_TIMEOUT_MS)


@contextmanager
def without_statement_timeout(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """For batch jobs (loads, schema changes), which may rightly run for minutes: no limit on
    PostgreSQL, a day on RisingWave (see RISINGWAVE_NO_LIMIT); the site's timeout afterwards."""
    set_statement_timeout(connection, 0)
    try:
        yield
    finally:
        # A connection lost inside the block has nothing to restore, and may already be
        # closed (connection.connection None, e.g. by olap_errors()): the next one is opened
        # with the site's timeout by on_connection_created.
        if connection.connection is not None and connection.is_usable():
            set_statement_timeout(connection, settings.OLAP_STATEMENT_TIMEOUT_MS)
