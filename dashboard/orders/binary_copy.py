"""PostgreSQL's binary COPY format, built straight from numpy columns (no Python object per row).

Every field has a fixed width, so a whole batch is one numpy structured array: a field count,
then a byte length and a big-endian value per column. NUMERIC goes as a fixed number of
base-10000 digits (PostgreSQL strips the leading zeros), from whole cents.
"""

from collections.abc import Iterable, Sequence
from typing import Any

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
    dtype = _dtype(kinds)
    out = np.empty(len(columns[0]) if columns else 0, dtype=dtype)
    out["fields"] = len(kinds)
    for number, (kind, column) in enumerate(zip(kinds, columns, strict=True)):
        if isinstance(kind, str):
            out[f"len{number}"] = np.dtype(_SIMPLE[kind]).itemsize
            out[f"value{number}"] = (column - PG_EPOCH).astype(np.int32) if kind == DATE else column
            continue
        whole_digits = kind[1]
        out[f"len{number}"] = 8 + 2 * (whole_digits + 1)
        out[f"numeric{number}"] = (whole_digits + 1, whole_digits - 1, 0, 2)
        whole, fraction = np.divmod(column, 100)
        digits = out[f"digits{number}"]
        for place in range(whole_digits):
            digits[:, place] = whole // 10 ** (4 * (whole_digits - 1 - place)) % 10**4
        digits[:, whole_digits] = fraction * 100  # .07 is the base-10000 digit 0700
    return out.tobytes()


class ChunkReader:
    """A file-like object over an iterator of bytes, for psycopg2's copy_expert."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = memoryview(b"")

    def read(self, size: int | None = -1) -> bytes:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buffer = memoryview(chunk)
        if size is None or size < 0:
            size = len(self._buffer)
        piece, self._buffer = self._buffer[:size], self._buffer[size:]
        return bytes(piece)
