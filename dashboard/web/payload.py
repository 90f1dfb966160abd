"""Rankings as JSON-ready data, shared by the API and the page that draws the charts."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from dashboard.orders.selectors import AVERAGE, COUNT, MONEY, Headline, Trend, Value
from dashboard.web.freshness import rounded_lag
from dashboard.web.rankings import UNNAMED_NOTICE, Ranking

# A ranking value as JSON carries it: money as a string, an average as a float, a count as an int.
JsonValue = str | float | int


def json_value(value: Value, kind: str) -> JsonValue:
    # Money travels as a string with exactly two decimals so no float ever touches it.
    if kind == MONEY:
        return f"{value:.2f}"
    if kind == AVERAGE:
        return float(value)
    if kind == COUNT:
        return int(value)
    raise ValueError(f"unknown value kind {kind!r}")


def headline_payload(headline: Headline) -> dict[str, JsonValue | None]:
    aov = headline.average_order_value
    return {
        "turnover": json_value(headline.turnover, MONEY),
        "orders": headline.orders,
        "lines": headline.lines,
        "average_order_value": None if aov is None else json_value(aov, MONEY),
    }


def notices(rankings: Iterable[Ranking]) -> list[str]:
    """What the page must say about the figures besides them."""
    return [UNNAMED_NOTICE] if any(ranking.unnamed for ranking in rankings) else []


def rankings_payload(
    rankings: Iterable[Ranking],
    *,
    headline: Headline,
    generated_at: datetime,
    filters: dict[str, str | None],
    behind_seconds: float | None,
    previous: Headline | None = None,
    state_place: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """`previous`: the headline of the period of the same length just before (None for all
    time); `behind_seconds`: how far the figures are behind the shop's database (None:
    unknown, or orders are not captured)."""
    rankings = list(rankings)
    return {
        "generated_at": generated_at.isoformat(),
        "filters": filters,
        "freshness": {"behind_seconds": rounded_lag(behind_seconds)},
        "notices": notices(rankings),
        "state_place": state_place and {"rank": state_place[0], "of": state_place[1]},
        "headline": {**headline_payload(headline), "previous": previous and headline_payload(previous)},
        "rankings": {
            ranking.name: [
                {
                    "key": entry.key,
                    "label": entry.label,
                    "value": json_value(entry.value, ranking.kind),
                    "previous_rank": entry.previous_rank,
                }
                for entry in ranking.entries
            ]
            for ranking in rankings
        },
    }


def trend_payload(trend: Trend, *, generated_at: datetime, filters: dict[str, str | None]) -> dict[str, Any]:
    return {
        "generated_at": generated_at.isoformat(),
        "filters": filters,
        "bucket": trend.bucket,
        "start": trend.start and trend.start.isoformat(),
        "end": trend.end.isoformat(),
        "points": [
            {
                "start": point.start.isoformat(),
                "turnover": json_value(point.turnover, MONEY),
                "orders": point.orders,
                "partial": point.partial,
            }
            for point in trend.points
        ],
    }
