"""Riding out a database that goes away and comes back, for batch programs (gen_data): a step
that fails because a connection was lost or refused is tried again, with backoff, for as long
as the caller allows, with one line when the outage starts and one when it ends.

Only connection faults are waited out (Django's OperationalError and InterfaceError, which
wrap psycopg2's and the MySQL driver's); any other database error is a real error and is
raised at once, and so is a cancelled statement (a statement timeout, pg_cancel_backend):
psycopg2 calls it an OperationalError too, but the server is up and meant it, and a load
tried again would only wait for the same end. A step must be safe to run again: each of
gen_data's is (a bulk load replaces its seed's range in one transaction; a live tick starts
from what the table holds).
"""

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connections

T = TypeVar("T")

CONNECTION_FAULTS = (OperationalError, InterfaceError)
QUERY_CANCELED = "57014"  # SQLSTATE of a statement timeout or a cancel request


def cancelled(error: BaseException) -> bool:
    """Whether `error` (Django's, wrapping the driver's) is a statement the server cancelled."""
    return getattr(error.__cause__, "pgcode", None) == QUERY_CANCELED


FIRST_WAIT, LONGEST_WAIT = 0.5, 5.0


class GaveUp(Exception):
    """The databases did not come back within the time allowed."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@dataclass
class Patience:
    """Retries steps through connection faults for up to `seconds` per outage."""

    seconds: float
    say: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    outages: int = field(default=0, init=False)

    def run(self, step: Callable[[], T], what: str, after_reconnect: Callable[[], None] | None = None) -> T:
        """step(), tried again after each connection fault until it succeeds or `seconds`
        have passed since the outage began (then GaveUp). `after_reconnect` runs before each
        new attempt (to set up a fresh connection the way the step needs it)."""
        started = None
        wait = FIRST_WAIT
        while True:
            if started is not None:
                # After a fault, out of its except block (which keeps the exception alive):
                # the failed attempt's frames sit in reference cycles with its exception
                # (Django's wrap_database_errors makes one, the delta log's thread another)
                # that only the cyclic collector frees. Left to it, a 10M-line load tried
                # again held the first try's arrays too: 420 MB at its peak instead of 255.
                gc.collect()
                self.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)
            try:
                if started is not None and after_reconnect:
                    after_reconnect()
                result = step()
            except CONNECTION_FAULTS as error:
                connections.close_all()  # every connection of this thread may be broken
                now = self.clock()
                if self.seconds <= 0 or cancelled(error):
                    raise  # no patience, or not a fault: the caller reports it
                if started is None:
                    started = now
                    self.outages += 1
                    self.say(
                        f"{what}: a database is unavailable ({first_line(error)}); "
                        f"retrying for up to {self.seconds:.0f} s"
                    )
                elif now - started >= self.seconds:
                    raise GaveUp(
                        f"{what}: a database stayed unavailable for {now - started:.0f} s "
                        f"({first_line(error)}); gave up"
                    ) from error
                continue
            if started is not None:
                self.say(f"{what}: resumed after {self.clock() - started:.1f} s")
            return result
