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
        if isinstance(error.__cause__, pg_errors.QueryCanceled):
            logger.warning("OLAP query cancelled by the statement timeout", exc_info=True)
            raise OlapUnavailable(
                "The analytics database took too long to answer; try again in a moment.", 504
            ) from error
        logger.warning("OLAP database unavailable", exc_info=True)
        raise OlapUnavailable("The analytics database is unavailable; try again in a moment.", 503) from error
