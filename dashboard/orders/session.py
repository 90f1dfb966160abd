"""Per-connection settings for the OLAP database."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

from dashboard.dbrouter import OLAP


def set_statement_timeout(connection: BaseDatabaseWrapper, milliseconds: int) -> None:
    # RisingWave requires a unit ("5000" alone is refused); PostgreSQL accepts the same form.
    # 0 means no limit on both.
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = %s", [f"{milliseconds}ms" if milliseconds else "0"])


def on_connection_created(
    sender: type[BaseDatabaseWrapper], connection: BaseDatabaseWrapper, **kwargs: Any
) -> None:
    """Bound every query the site sends to the OLAP side, so a slow one cannot hold a worker."""
    if connection.alias == OLAP:
        set_statement_timeout(connection, settings.OLAP_STATEMENT_TIMEOUT_MS)


@contextmanager
def without_statement_timeout(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """For batch jobs (loads, schema changes), which may rightly run for minutes."""
    set_statement_timeout(connection, 0)
    try:
        yield
    finally:
        if connection.is_usable():
            set_statement_timeout(connection, settings.OLAP_STATEMENT_TIMEOUT_MS)
