from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from analytics_site.login_throttle import ThrottledLoginView
from dashboard.orders import browser as order_browser
from dashboard.web import health

urlpatterns = [
    path("", include("dashboard.web.urls")),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/orders/", admin.site.admin_view(order_browser.browse_orders), name="admin-orders"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
