from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from analytics_site.login_throttle import ThrottledLoginView
from dashboard.orders import browser as order_browser
from dashboard.web import health, metrics

urlpatterns = [
    path("", include("dashboard.web.urls")),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/orders/", admin.site.admin_view(order_browser.browse_orders), name="admin-orders"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus' text format; METRICS_TOKEN or loopback only (dashboard/web/metrics.py).
    path("metrics", metrics.metrics, name="metrics"),
]

# A database connection lost anywhere answers 503 with Retry-After, not 500.
handler500 = "dashboard.web.decorators.server_error"
