"""Rankings and the trend as CSV: the same rows and values as the JSON API."""

import csv
import io

from dashboard.orders.selectors import MONEY, Trend
from dashboard.web.payload import json_value
from dashboard.web.rankings import Ranking

HEADER = ("rank", "key", "label", "value")
# A cell starting with one of these is a formula to a spreadsheet; item names are edited by
# people, so neutralise them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def ranking_csv(ranking: Ranking) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for rank, entry in enumerate(ranking.entries, start=1):
        writer.writerow((rank, entry.key, safe_cell(entry.label), json_value(entry.value, ranking.kind)))
    return out.getvalue()


TREND_HEADER = ("start", "turnover", "orders", "partial")


def trend_csv(trend: Trend) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TREND_HEADER)
    for point in trend.points:
        partial = "true" if point.partial else "false"
        writer.writerow((point.start.isoformat(), json_value(point.turnover, MONEY), point.orders, partial))
    return out.getvalue()
