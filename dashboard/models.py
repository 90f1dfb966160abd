"""Where Django finds the app's models: each lives in the package of its concern, and this
module only gathers them (the app label stays "dashboard", so table names, content types and
permissions are those of every earlier release)."""

from dashboard.catalog.models import Branch, Commit, Item
from dashboard.orders.models import (
    CaptureHeartbeat,
    Day,
    ItemDay,
    ItemSpan,
    ItemTotal,
    Order,
    ShopOrder,
    StateDay,
    StateItemDay,
    StateItemTotal,
    StateSpan,
    StateTotal,
)
from dashboard.sessions.models import UserSession
from dashboard.tokens.models import ApiToken

__all__ = [
    "ApiToken",
    "Branch",
    "CaptureHeartbeat",
    "Commit",
    "Day",
    "Item",
    "ItemDay",
    "ItemSpan",
    "ItemTotal",
    "Order",
    "ShopOrder",
    "StateDay",
    "StateItemDay",
    "StateItemTotal",
    "StateSpan",
    "StateTotal",
    "UserSession",
]
