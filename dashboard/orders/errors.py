"""Turning OLAP failures into answers a person or a client can act on."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connections
from psycopg2 import errors as pg_errors

from dashboard.dbrouter import OLAP

logger = logging.getLogger(__name__)


class OlapUnavailable(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def ran_out_of_time(error: BaseException | None) -> bool:
    """Whether the driver's error `error` says the statement timeout cancelled the query.

    PostgreSQL says so with SQLSTATE 57014 (QueryCanceled). RisingWave (v3.0.3) has no code of
    its own for it: the cancelled query fails with the catch-all XX000 (InternalError_), and
    only the message tells, "Scheduler error: Query cancelled: timeout after 5 seconds"
    (src/frontend/src/scheduler/error.rs: QueryCancelled is "Query cancelled: {0}", the reason
    "timeout after {n} seconds" from scheduler/local.rs and scheduler/distributed/query.rs;
    wrapped as "Scheduler error: {0}" in src/frontend/src/error.rs; pgwire falls back to XX000
    in src/utils/pgwire/src/error_or_notice.rs). A query cancelled by a person on RisingWave
    ("Query cancelled: Cancelled by user") did not run out of time: it is not a timeout.
    On PostgreSQL every 57014 counts, as before: the site itself cancels only by the timeout,
    and PostgreSQL's message text is translated (lc_messages), so it is not matched.
    """
    if isinstance(error, pg_errors.QueryCanceled):
        return True
    if getattr(error, "pgcode", None) != "XX000":
        return False
    diag = getattr(error, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(error)).lower()
    return "query cancelled" in message and "timeout" in message


@contextmanager
def olap_errors() -> Iterator[None]:
    """Raise OlapUnavailable (503, or 504 for a query that ran out of time) for any database
    error inside the block; the details go to the log."""
    try:
        yield
    except DatabaseError as error:
        # Drop the broken connection now: the next request connects afresh, so the site
        # recovers by itself when the database is back.
        connections[OLAP].close()
        if ran_out_of_time(error.__cause__):
            logger.warning("OLAP query cancelled by the statement timeout", exc_info=True)
            raise OlapUnavailable(
                "The analytics database took too long to answer; try again in a moment.", 504
            ) from error
        logger.warning("OLAP database unavailable", exc_info=True)
        raise OlapUnavailable("The analytics database is unavailable; try again in a moment.", 503) from error
