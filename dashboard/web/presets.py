"""The date presets offered above the charts, as links that work without JavaScript."""

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from dashboard.orders.selectors import OrderFilters


@dataclass(frozen=True)
class Preset:
    label: str
    query: str
    current: bool
    start: str  # ISO dates, "" for all time
    end: str


PRESETS = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("All time", None))


def preset_links(today: date, filters: OrderFilters) -> list[Preset]:
    """[Preset] for each preset, ending today; a state filter stays."""
    state = {"state": filters.state} if filters.state else {}
    links = []
    for label, days in PRESETS:
        if days is None:
            start = end = ""
            current = not (filters.start or filters.end)
        else:
            start, end = (today - timedelta(days=days - 1)).isoformat(), today.isoformat()
            current = filters.as_dict()["start"] == start and filters.as_dict()["end"] == end
        dates = {"start": start, "end": end} if days else {}
        links.append(Preset(label, urlencode({**dates, **state}), current, start, end))
    return links
