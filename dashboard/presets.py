"""The date presets offered above the charts, as links that work without JavaScript."""

from datetime import timedelta

PRESETS = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("All time", None))


def preset_links(today, filters):
    """[(label, query string, is_current)] for each preset, ending today."""
    links = []
    for label, days in PRESETS:
        if days is None:
            query, current = "", not (filters.start or filters.end)
        else:
            start = today - timedelta(days=days - 1)
            query = f"start={start.isoformat()}&end={today.isoformat()}"
            current = filters.start == start and filters.end == today
        links.append((label, query, current))
    return links
