from django.urls import path

from dashboard.web import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("api/rankings/", views.api_rankings, name="api-rankings"),
    path("api/rankings/<slug:name>.csv", views.api_ranking_csv, name="api-ranking-csv"),
    path("api/trend/", views.api_trend, name="api-trend"),
    path("api/trend.csv", views.api_trend_csv, name="api-trend-csv"),
    path("catalog/branch/", views.switch_catalog_branch, name="switch-catalog-branch"),
]
