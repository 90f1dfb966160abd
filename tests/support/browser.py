"""Debian's Chromium, driven by Playwright, for tests that use the site as a person would."""

import time
from contextlib import contextmanager
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


class PageWatch:
    """What a page did that a test should know about: console errors and non-local requests."""

    def __init__(self):
        self.console_errors = []
        self.outside_requests = []

    def console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def route(self, route):
        # Requests that would leave the machine are recorded and never sent.
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.outside_requests.append(route.request.url)
            route.abort()


@contextmanager
def browser_page(viewport=None, color_scheme="light"):
    """Yield (page, watch); the browser is gone when the block ends."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(
                viewport=viewport or {"width": 1280, "height": 900}, color_scheme=color_scheme
            )
            watch = PageWatch()
            context.route("**/*", watch.route)
            page = context.new_page()
            page.on("console", watch.console)
            page.on("pageerror", lambda error: watch.console_errors.append(str(error)))
            yield page, watch
        finally:
            browser.close()


def wait_until(page, expression, timeout=30.0):
    """Poll a JavaScript expression until it is truthy.

    Playwright's wait_for_function evaluates its predicate with eval() inside the page, which
    the site's Content Security Policy rightly forbids; page.evaluate is not subject to it.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)
