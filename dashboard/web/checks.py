"""System checks of the web's deployment settings, run by `manage.py check --deploy`."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

METRICS_CLOSED = "dashboard.W001"


@register(Tags.security, deploy=True)
def metrics_token(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """/metrics is closed without METRICS_TOKEN (with DEBUG off): Prometheus cannot scrape."""
    if settings.METRICS_TOKEN:
        return []
    return [
        Warning(
            "METRICS_TOKEN is not set, so /metrics is closed to everyone: Prometheus cannot scrape it.",
            hint="Set METRICS_TOKEN to a long random value and have Prometheus send "
            "Authorization: Bearer <METRICS_TOKEN> (docs/operations.md#metrics-for-prometheus).",
            id=METRICS_CLOSED,
        )
    ]
