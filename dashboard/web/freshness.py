"""How current the figures are, asked on every poll of an open dashboard.

The change marker: the OLAP side's version (dashboard.orders.selectors.freshness(), which
moves whenever the figures may have changed), this process's mirror of the rollups
(selectors.mirror_generation(), which moves when the mirror takes in a change: the version
can show a commit before its notice reaches the mirror) and a time bucket of
RANKINGS_CACHE_SECONDS (at least 1 s). The rankings cache and the API's ETag are keyed by it,
so new orders show at once, and what the version does not follow (item names from the
catalog; RisingWave, which keeps no version) still shows within one bucket. The mirror's part
differs between worker processes: a poll that reaches another worker is answered in full
(from that worker's mirror, in about a millisecond) rather than with 304.

freshness() is one cheap query, and each worker process reuses its answer for
FRESHNESS_CACHE_MS: however many viewers poll, a worker asks a few times a second at most.
"""

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from dashboard.orders.selectors import Freshness, OrderFilters, freshness, mirror_generation

# The page says how far behind the shop's database its figures are once they are more than
# this many seconds behind.
SHOW_LAG_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Marker:
    """What the figures on offer depend on, besides the filters and the catalog branch."""

    version: int | None
    bucket: int
    behind_seconds: float | None
    # This process's mirror of the rollups (selectors.mirror_generation()): asked on every
    # request, not kept, since a commit's notice can reach the mirror after its version is
    # seen here.
    mirrored: int = 0


@dataclass(frozen=True)
class _Asked:
    monotonic: float  # when freshness() answered, for its age
    wall: float  # the same moment as a Unix time, for the bucket
    orders_source: str
    answer: Freshness


class _LastAnswer:
    """The last freshness() answer in this process, shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.asked: _Asked | None = None

    def usable(self, max_age: float) -> _Asked | None:
        asked = self.asked
        if (
            asked is not None
            and asked.orders_source == settings.ORDERS_SOURCE
            and time.monotonic() - asked.monotonic < max_age
        ):
            return asked
        return None

    def get(self) -> _Asked:
        """freshness(), at most FRESHNESS_CACHE_MS old; while one thread asks, the others
        wait for its answer. Failures are not kept: the next request asks again."""
        max_age = settings.FRESHNESS_CACHE_MS / 1000
        if max_age <= 0:
            return self.ask()
        asked = self.usable(max_age)
        if asked is not None:
            return asked
        with self.lock:
            asked = self.usable(max_age)  # answered while we waited
            if asked is None:
                asked = self.asked = self.ask()
        return asked

    def ask(self) -> _Asked:
        answer = freshness()
        return _Asked(time.monotonic(), time.time(), settings.ORDERS_SOURCE, answer)

    def forget(self) -> None:
        self.asked = None


_last = _LastAnswer()


def forget_kept_answer() -> None:
    """Drop this process's kept freshness() answer: the next marker asks afresh, and its time
    bucket is the one it is asked in."""
    _last.forget()


@receiver(setting_changed)
def _forget_on_settings_change(**kwargs: Any) -> None:
    # A changed setting (tests' override_settings) may change the answer: ask afresh.
    forget_kept_answer()


def change_marker() -> Marker:
    """The current marker; raises OlapUnavailable when the OLAP side does not answer."""
    asked = _last.get()
    period = max(1, settings.RANKINGS_CACHE_SECONDS)
    return Marker(
        version=asked.answer.version,
        bucket=int(asked.wall // period),
        behind_seconds=asked.answer.behind_seconds,
        mirrored=mirror_generation(),
    )


def figures_key(marker: Marker, filters: OrderFilters, branch: str) -> str:
    """Names the figures for these filters and this catalog branch under this marker."""
    parts = (
        settings.RANKINGS_SOURCE,
        marker.version,
        marker.mirrored,
        marker.bucket,
        filters.start,
        filters.end,
        filters.state,
        branch,
    )
    return ":".join(str(part) for part in parts)


def rankings_etag(marker: Marker, filters: OrderFilters, branch: str) -> str:
    """The API's ETag: equal exactly when the figures key is. Weak: the figures are the same,
    not necessarily the bytes (generated_at, behind_seconds)."""
    digest = hashlib.blake2b(figures_key(marker, filters, branch).encode(), digest_size=12).hexdigest()
    return f'W/"{digest}"'


def rounded_lag(behind_seconds: float | None) -> float | None:
    """behind_seconds as the API gives it: to a tenth of a second."""
    return None if behind_seconds is None else round(behind_seconds, 1)


def lag_notice(behind_seconds: float | None) -> str:
    """'Updating: 42 s behind the shop's database' once the figures are more than
    SHOW_LAG_AFTER_SECONDS behind (minutes from 120 s, hours from 120 min), else "".
    dashboard.js words it the same way."""
    if behind_seconds is None or behind_seconds <= SHOW_LAG_AFTER_SECONDS:
        return ""
    seconds = int(behind_seconds + 0.5)  # halves round up, as JavaScript's Math.round does
    if seconds < 120:
        amount = f"{seconds} s"
    elif seconds < 120 * 60:
        amount = f"{int(seconds / 60 + 0.5)} min"
    else:
        amount = f"{int(seconds / 3600 + 0.5)} h"
    return f"Updating: {amount} behind the shop's database"
