"""PostgreSQL's binary COPY format, built straight from numpy columns (no Python object per row),
and fed to the driver: from an iterator of byte chunks (ChunkReader), which a thread of its
own may compute ahead of the COPY taking them (worked_ahead).

Every field has a fixed width, so a whole batch is one numpy structured array: a field count,
then a byte length and a big-endian value per column. NUMERIC goes as a fixed number of
base-10000 digits (PostgreSQL strips the leading zeros), from whole cents.
"""

import queue
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
PG_EPOCH = np.datetime64("2000-01-01", "D")

INT4, INT8, DATE, CHAR2 = "int4", "int8", "date", "char2"
# How a column is sent: one of the fixed-width kinds above, or money(whole_digits).
Money = tuple[str, int]
Kind = str | Money


def money(whole_digits: int) -> Money:
    """A NUMERIC column of cents with `whole_digits` base-10000 digits before the point."""
    return ("money", whole_digits)


def money_limit(kind: Money) -> int:
    """The first amount in cents a money column of this kind cannot hold."""
    return 100 * 10 ** (4 * kind[1])


_SIMPLE = {INT4: ">i4", INT8: ">i8", DATE: ">i4", CHAR2: "S2"}


def _dtype(kinds: Sequence[Kind]) -> np.dtype[np.void]:
    fields: list[tuple[str, str] | tuple[str, str, tuple[int]]] = [("fields", ">i2")]
    for number, kind in enumerate(kinds):
        fields.append((f"len{number}", ">i4"))
        if isinstance(kind, str):
            fields.append((f"value{number}", _SIMPLE[kind]))
        else:
            fields.append((f"numeric{number}", ">i2", (4,)))  # ndigits, weight, sign, dscale
            fields.append((f"digits{number}", ">i2", (kind[1] + 1,)))
    return np.dtype(fields)


def encode_rows(kinds: Sequence[Kind], columns: Sequence[np.ndarray[Any, Any]]) -> bytes:
    """The rows in binary COPY tuple format (no header or trailer). `kinds` says how each
    column is sent; money columns hold non-negative whole cents that fit their width."""
    return RowEncoder(kinds)(columns)


class RowEncoder:
    """encode_rows for one set of kinds, batch after batch: the rows are built in one buffer
    kept from batch to batch, whose constant fields (counts, lengths, NUMERIC headers) are
    written only when it grows. Not for use by two threads at once."""

    def __init__(self, kinds: Sequence[Kind]) -> None:
        self.kinds = tuple(kinds)
        self._dtype = _dtype(self.kinds)
        self._buffer = np.empty(0, dtype=self._dtype)

    def _rows(self, count: int) -> np.ndarray[Any, Any]:
        if count > len(self._buffer):
            buffer = np.empty(count, dtype=self._dtype)
            buffer["fields"] = len(self.kinds)
            for number, kind in enumerate(self.kinds):
                if isinstance(kind, str):
                    buffer[f"len{number}"] = np.dtype(_SIMPLE[kind]).itemsize
                else:
                    buffer[f"len{number}"] = 8 + 2 * (kind[1] + 1)
                    buffer[f"numeric{number}"] = (
                        kind[1] + 1,
                        kind[1] - 1,
                        0,
                        2,
                    )  # ndigits, weight, sign, dscale
            self._buffer = buffer
        return self._buffer[:count]

    def __call__(self, columns: Sequence[np.ndarray[Any, Any]]) -> bytes:
        out = self._rows(len(columns[0]) if columns else 0)
        for number, (kind, column) in enumerate(zip(self.kinds, columns, strict=True)):
            if isinstance(kind, str):
                out[f"value{number}"] = (column - PG_EPOCH).astype(np.int32) if kind == DATE else column
                continue
            whole_digits = kind[1]
            whole, fraction = np.divmod(column, 100)
            digits = out[f"digits{number}"]
            for place in range(whole_digits):
                digits[:, place] = whole // 10 ** (4 * (whole_digits - 1 - place)) % 10**4
            digits[:, whole_digits] = fraction * 100  # .07 is the base-10000 digit 0700
        return out.tobytes()


class ChunkReader:
    """A file-like object over an iterator of bytes, for psycopg2's copy_expert; what the
    iterator raised is kept in `error` (see copy_from)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = memoryview(b"")
        self.error: BaseException | None = None

    def read(self, size: int | None = -1) -> bytes:
        try:
            while not self._buffer:
                chunk = next(self._chunks, None)
                if chunk is None:
                    return b""
                self._buffer = memoryview(chunk)
        except BaseException as error:
            self.error = error  # for copy_from, which raises it in place of psycopg2's own
            raise
        if size is None or size < 0:
            size = len(self._buffer)
        piece, self._buffer = self._buffer[:size], self._buffer[size:]
        return bytes(piece)


# psycopg2 also prints an error that ends a COPY (through sys.excepthook) before raising it:
# the raised error is the one callers report, so the print is only noise. sys.excepthook is
# the process's, and a load's two connections may each be in a COPY: the first to start
# silences it, the last to end restores it.
_silenced = 0
_silencing = threading.Lock()
_hook_before: Any = None


@contextmanager
def _driver_prints_suppressed() -> Iterator[None]:
    global _silenced, _hook_before
    with _silencing:
        if _silenced == 0:
            _hook_before, sys.excepthook = sys.excepthook, lambda *details: None
        _silenced += 1
    try:
        yield
    finally:
        with _silencing:
            _silenced -= 1
            if _silenced == 0:
                sys.excepthook, _hook_before = _hook_before, None


def copy_from(cursor: Any, statement: str, chunks: Iterable[bytes], size: int = 1 << 20) -> None:
    """Run the `COPY ... FROM STDIN` statement on `cursor` with `chunks` as its data; what
    producing the chunks raised is raised as it was.

    psycopg2 turns any exception raised while it reads the data (Ctrl-C or SIGTERM arriving
    then, which Python raises in whatever code runs next; an error the load's thread hands
    on) into the server's answer to the aborted COPY, QueryCanceled "COPY from stdin failed:
    error in .read() call". To the loader's patience that is a connection fault: a stop
    signal was taken for an outage and the load went on (caught by the live feed's fault
    test, which then ran two minutes past its SIGTERM).

    A signal's KeyboardInterrupt can also arrive where no code of the reader can catch it:
    as read() is entered, before its first line. Then only psycopg2's message tells: a read
    that failed although the reader kept no error failed before its first line, and only a
    signal's handler runs there (gen_data's raise KeyboardInterrupt). psycopg2 names the
    exception in that message when it has a value, as the one raised by gen_data's SIGTERM
    handler does; Python's own Ctrl-C handler raises one without, and the message stops
    after "call" (a clean-clone CI run's SIGINT test: the load resumed and exited 0)."""
    reader = ChunkReader(chunks)
    try:
        with _driver_prints_suppressed():
            cursor.copy_expert(statement, reader, size)
    except Exception as error:
        if reader.error is not None:
            raise reader.error from None
        if _FAILED_READ in str(error):
            raise KeyboardInterrupt from None
        raise


# How psycopg2 (pqpath.c, _pq_copy_in_v3) words a COPY it aborted because read() raised:
# these words, then ": " and the exception's type and text when it has a value.
_FAILED_READ = "error in .read() call"


Item = TypeVar("Item")
WORK_AHEAD = 2  # batches a load's thread may have ready before COPY takes them (about 11 MB each)


@contextmanager
def worked_ahead(items: Iterator[Item], ahead: int = WORK_AHEAD) -> Iterator[Iterator[Item]]:
    """`items`, each computed in a thread of its own up to `ahead` items before the caller
    reads it. An error the thread meets is raised to the reader in its place; leaving the
    block stops the thread (after the item it is on). Written here rather than taken from
    concurrent.futures, whose map() submits every item at once: a bounded queue keeps a
    load's memory to a few batches."""
    handoff: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def hand(done: bool, value: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put((done, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand(False, item):
                    return
        except BaseException as error:  # handed on to the reader, who raises it
            hand(True, error)
            return
        hand(True, None)

    def consume() -> Iterator[Item]:
        while True:
            done, value = handoff.get()
            if done:
                if value is not None:
                    raise value
                return
            yield value

    worker = threading.Thread(target=produce, name="load-batches", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
        worker.join()
