"""Security headers Django 5.2 does not set by itself."""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def content_security_policy(chartjs_url: str) -> str:
    """Only the site itself, plus the origin of the pinned Chart.js file when it is on a CDN."""
    scripts = ["'self'"]
    if urlsplit(chartjs_url).scheme in ("http", "https"):
        parts = urlsplit(chartjs_url)
        scripts.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {' '.join(scripts)}",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.policy = content_security_policy(settings.CHARTJS_URL)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        return response
