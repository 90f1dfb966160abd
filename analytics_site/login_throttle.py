"""Login with throttling: repeated failures for one username, or from one address, are
refused for a while (HTTP 429) before the password is even checked."""

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

FAILURES_CACHE = "shared"  # every worker process must see the same counters


def _keys(request: HttpRequest) -> dict[str, int]:
    username = request.POST.get("username", "").strip().lower()
    address = request.META.get("REMOTE_ADDR", "unknown")
    return {
        f"login-failures:user:{username}": settings.LOGIN_FAILURES_PER_USERNAME,
        f"login-failures:addr:{address}": settings.LOGIN_FAILURES_PER_ADDRESS,
    }


def _blocked(request: HttpRequest) -> bool:
    counts = caches[FAILURES_CACHE].get_many(list(_keys(request)))
    return any(counts.get(key, 0) >= limit for key, limit in _keys(request).items())


def _count_failure(request: HttpRequest) -> None:
    store = caches[FAILURES_CACHE]
    for key in _keys(request):
        # add() starts the window; incr() keeps its expiry.
        if not store.add(key, 1, settings.LOGIN_LOCKOUT_SECONDS):
            try:
                store.incr(key)
            except ValueError:  # expired between add() and incr()
                store.add(key, 1, settings.LOGIN_LOCKOUT_SECONDS)


class ThrottledLoginView(LoginView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _blocked(request):
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            context = self.get_context_data(
                form=self.get_form(),
                throttled=f"Too many failed logins. Try again in {minutes} minutes.",
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        _count_failure(self.request)
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        caches[FAILURES_CACHE].delete(f"login-failures:user:{form.get_user().get_username().lower()}")
        return super().form_valid(form)
