"""Per-connection settings for the OLAP database."""

from contextlib import contextmanager

from django.conf import settings

from dashboard.dbrouter import OLAP


def set_statement_timeout(connection, milliseconds):
    # RisingWave requires a unit ("5000" alone is refused); PostgreSQL accepts the same form.
    # 0 means no limit on both.
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = %s", [f"{milliseconds}ms" if milliseconds else "0"])


def on_connection_created(sender, connection, **kwargs):
    """Bound every query the site sends to the OLAP side, so a slow one cannot hold a worker."""
    if connection.alias == OLAP:
        set_statement_timeout(connection, settings.OLAP_STATEMENT_TIMEOUT_MS)


@contextmanager
def without_statement_timeout(connection):
    """For batch jobs (loads, schema changes), which may rightly run for minutes."""
    set_statement_timeout(connection, 0)
    try:
        yield
    finally:
        if connection.is_usable():
            set_statement_timeout(connection, settings.OLAP_STATEMENT_TIMEOUT_MS)
