"""Bulk loading of order lines into the OLAP database.

PostgreSQL gets binary COPY built straight from numpy arrays (no Python object per row).
RisingWave has no COPY FROM STDIN, so it gets multi-row INSERT statements with bound
parameters and then FLUSH, which is what makes the rows visible to readers.

A load may replace a whole range of order ids (DELETE, then insert), so running the same
load twice leaves the same table: on PostgreSQL in one transaction; on RisingWave, which has
no read-write transactions, a load cut short is completed by running it again. Without a
range to replace, a load only appends.
"""

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import transaction

from dashboard.olap.schema import ORDER_COLUMNS

PG_EPOCH = np.datetime64("2000-01-01", "D")
MAX_PRICE_CENTS = 10**14  # $1 trillion: three base-10000 digits before the point
COPY_SQL = f"COPY orders ({', '.join(ORDER_COLUMNS)}) FROM STDIN WITH (FORMAT binary)"
DELETE_RANGE_SQL = "DELETE FROM orders WHERE orderid >= %s AND orderid < %s"
FLUSH_SQL = "FLUSH"
# Column names are constants of this module; no input reaches the statement text.
INSERT_PREFIX = f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) VALUES "  # noqa: S608


@dataclass(frozen=True)
class OrderLines:
    """A batch of order lines as columns. Prices are whole cents; dates are datetime64[D]."""

    orderid: np.ndarray  # int64
    itemid: np.ndarray  # int32
    qty: np.ndarray  # int32
    price_cents: np.ndarray  # int64
    dt: np.ndarray  # datetime64[D]
    state: np.ndarray  # S2: two-letter ASCII codes

    def __len__(self):
        return len(self.orderid)


# --- PostgreSQL: binary COPY ------------------------------------------------------------

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)

# One tuple of the COPY binary format with every field at a fixed width: a field count,
# then a byte length and big-endian value per column. NUMERIC is sent as four base-10000
# digits (three before the point, one after); PostgreSQL strips the leading zeros.
_TUPLE = np.dtype(
    [
        ("fields", ">i2"),
        ("orderid_len", ">i4"),
        ("orderid", ">i8"),
        ("itemid_len", ">i4"),
        ("itemid", ">i4"),
        ("qty_len", ">i4"),
        ("qty", ">i4"),
        ("price_len", ">i4"),
        ("price_ndigits", ">i2"),
        ("price_weight", ">i2"),
        ("price_sign", ">u2"),
        ("price_dscale", ">i2"),
        ("price_digits", ">i2", (4,)),
        ("dt_len", ">i4"),
        ("dt", ">i4"),
        ("state_len", ">i4"),
        ("state", "S2"),
    ]
)


def copy_tuples(lines):
    """The order lines in PostgreSQL's binary COPY tuple format (no header or trailer)."""
    cents = lines.price_cents
    if len(lines) and (cents.min() < 0 or cents.max() >= MAX_PRICE_CENTS):
        raise ValueError(f"prices must be from 0 to {MAX_PRICE_CENTS - 1} cents")
    out = np.empty(len(lines), dtype=_TUPLE)
    out["fields"] = len(ORDER_COLUMNS)
    out["orderid_len"], out["orderid"] = 8, lines.orderid
    out["itemid_len"], out["itemid"] = 4, lines.itemid
    out["qty_len"], out["qty"] = 4, lines.qty
    out["price_len"] = 8 + 2 * 4
    out["price_ndigits"], out["price_weight"], out["price_sign"], out["price_dscale"] = 4, 2, 0, 2
    whole, fraction = np.divmod(cents, 100)
    digits = out["price_digits"]
    digits[:, 0] = whole // 10**8
    digits[:, 1] = whole // 10**4 % 10**4
    digits[:, 2] = whole % 10**4
    digits[:, 3] = fraction * 100  # .07 is the base-10000 digit 0700
    out["dt_len"], out["dt"] = 4, (lines.dt - PG_EPOCH).astype(np.int32)
    out["state_len"], out["state"] = 2, lines.state
    return out.tobytes()


class ChunkReader:
    """A file-like object over an iterator of bytes, for psycopg2's copy_expert."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buffer = memoryview(b"")

    def read(self, size=-1):
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buffer = memoryview(chunk)
        if size is None or size < 0:
            size = len(self._buffer)
        piece, self._buffer = self._buffer[:size], self._buffer[size:]
        return bytes(piece)


@contextmanager
def _driver_prints_suppressed():
    """psycopg2 also prints an error that ends a COPY (through sys.excepthook) before raising
    it; the raised error is the one callers report, so the print is only noise."""
    previous = sys.excepthook
    sys.excepthook = lambda *details: None
    try:
        yield
    finally:
        sys.excepthook = previous


def load_postgresql(connection, batches, replace=None, on_batch=None):
    """Load `batches` in one transaction, first deleting the order ids in the half-open range
    `replace` if given. Returns the number of lines loaded."""
    loaded = 0

    def stream():
        nonlocal loaded
        yield COPY_HEADER
        for lines in batches:
            yield copy_tuples(lines)
            loaded += len(lines)
            if on_batch:
                on_batch(loaded)
        yield COPY_TRAILER

    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if replace:
            cursor.execute(DELETE_RANGE_SQL, list(replace))
        # copy_expert reaches the driver's cursor directly; wrap its errors as Django's
        # own, like every other query, so callers catch one kind of DatabaseError.
        with connection.wrap_database_errors, _driver_prints_suppressed():
            cursor.copy_expert(COPY_SQL, ChunkReader(stream()), 1 << 20)
    return loaded


# --- RisingWave: multi-row INSERT, then FLUSH --------------------------------------------


def insert_statements(lines, batch_size):
    """(sql, params) multi-row INSERTs of at most batch_size rows, values bound, never inlined."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    row_placeholder = "(" + ", ".join(["%s"] * len(ORDER_COLUMNS)) + ")"
    columns = (
        lines.orderid.tolist(),
        lines.itemid.tolist(),
        lines.qty.tolist(),
        [Decimal(cents).scaleb(-2) for cents in lines.price_cents.tolist()],
        lines.dt.astype(object).tolist(),
        [code.decode("ascii") for code in lines.state.tolist()],
    )
    rows = list(zip(*columns, strict=True))
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        # Only constant text and %s placeholders: every value is bound by the driver.
        sql = INSERT_PREFIX + ", ".join([row_placeholder] * len(batch))
        yield sql, [value for row in batch for value in row]


def load_risingwave(connection, batches, batch_size, replace=None, on_batch=None):
    """Load `batches` with multi-row INSERTs, first deleting the order ids in the half-open
    range `replace` if given, then FLUSH. Returns the number of lines loaded."""
    loaded = 0
    with connection.cursor() as cursor:
        if replace:
            cursor.execute(DELETE_RANGE_SQL, list(replace))
        for lines in batches:
            for sql, params in insert_statements(lines, batch_size):
                cursor.execute(sql, params)
            loaded += len(lines)
            if on_batch:
                on_batch(loaded)
        # Without FLUSH, RisingWave readers would not see the rows for up to a second.
        cursor.execute(FLUSH_SQL)
    return loaded
