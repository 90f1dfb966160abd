"""Statements composed with psycopg2's sql module, rendered to text once per process.

psycopg2 renders a Composed statement again on every execute, quoting each identifier
through the connection. For the statements asked on every request (the session's read, the
figures, the trend) that took a sizeable part of the time the servers took to answer them.
Their text depends only on the models' tables and columns and on a shape the caller names
(how many placeholders of each kind), never on a value: values stay bound parameters.

Imports nothing of the project: any layer may use it.
"""

from collections.abc import Callable, Hashable
from typing import Any

from psycopg2 import sql

# Texts by key: bounded by the keys the callers use (a fixed set of names and shapes).
_TEXTS: dict[Hashable, str] = {}


def rendered(key: Hashable, compose: Callable[[], sql.Composable], context: Any) -> str:
    """The text of compose() under `key`, rendered with `context` (a psycopg2 connection or
    cursor, which quotes the identifiers) the first time the key is asked."""
    text = _TEXTS.get(key)
    if text is None:
        # Two threads may both render it the first time: the same text, stored twice.
        text = _TEXTS[key] = compose().as_string(context)
    return text
