"""A short cache for rankings, so a burst of identical requests runs the queries once.

Entries live for RANKINGS_CACHE_SECONDS (a few seconds: live refresh stays fresh). While one
request computes an entry, identical requests in the same process wait for it instead of
querying too (single flight); each worker process computes at most once per key and period.
Hits (a waiter served by another's computation included) and misses are counted for /metrics.
"""

import threading
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from dashboard.web.metrics import RANKINGS_CACHE_HITS, RANKINGS_CACHE_MISSES

T = TypeVar("T")

# A fixed set of locks, chosen by key: identical keys always share one, and a stream of
# distinct filters cannot grow the set.
_LOCKS = [threading.Lock() for _ in range(64)]


def _lock_for(key: str) -> threading.Lock:
    return _LOCKS[zlib.crc32(key.encode()) % len(_LOCKS)]


def cached(key: str, compute: Callable[[], T]) -> tuple[T, datetime]:
    """(value, computed_at) for key, computing it at most once per period and process."""
    seconds = settings.RANKINGS_CACHE_SECONDS
    if seconds <= 0:
        return compute(), timezone.now()
    hit = cache.get(key)
    if hit is not None:
        RANKINGS_CACHE_HITS.inc()
        return hit
    with _lock_for(key):
        hit = cache.get(key)  # filled while we waited
        if hit is None:
            RANKINGS_CACHE_MISSES.inc()
            hit = (compute(), timezone.now())
            cache.set(key, hit, seconds)
        else:
            RANKINGS_CACHE_HITS.inc()
    return hit
