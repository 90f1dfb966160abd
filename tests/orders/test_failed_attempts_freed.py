"""What a failed attempt held is freed before the next one: gen_data's patience and the
capture worker each collect the failed attempt's reference cycles. A database error leaves
one (Django's wrap_database_errors keeps the exception in a frame its traceback holds), and
the frames of a long load or fold have outlived the collector's young generations by then,
so automatic collection (switched off here, to make that certain) would not free them in
time: a 10M-line load tried again peaked at 420 MB instead of 255, a worker that refolded
a 1M-line import after a fault at 195 MB instead of 158."""

import gc
import weakref

import pytest
from django.db import OperationalError

from dashboard.dbrouter import OLAP
from dashboard.orders.worker import Link, Worker
from dashboard.outages import Patience


class Sums:
    """Stands for a load's or a fold's arrays."""


@pytest.fixture
def no_automatic_collection():
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def fail_holding(held):
    """Raise a connection fault from a frame that holds `held` in a cycle with the error."""
    sums = Sums()
    held.append(weakref.ref(sums))
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError as error:
        kept = error  # as wrap_database_errors keeps it: frame -> error -> traceback -> frame
        raise kept from None


@pytest.mark.usefixtures("no_automatic_collection")
def test_the_patience_frees_a_failed_attempt_before_the_next():
    held = []
    seen_alive = []

    def step():
        if not held:
            fail_holding(held)
        seen_alive.append(held[0]() is not None)
        return "done"

    said = []
    assert Patience(60, said.append, sleep=lambda seconds: None).run(step, "loading") == "done"
    assert seen_alive == [False]
    assert said[0].startswith("loading: a database is unavailable (server closed the connection")


@pytest.mark.usefixtures("no_automatic_collection")
def test_the_capture_worker_frees_a_failed_fold_before_the_next():
    held = []
    said = []
    link = Link(OLAP, said.append)
    Worker(said.append)._attempt(link, lambda: fail_holding(held))
    assert link.down_since is not None
    assert held[0]() is None
