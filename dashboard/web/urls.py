from django.urls import path

from dashboard.web import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("api/rankings/", views.api_rankings, name="api-rankings"),
    path("api/rankings/<slug:name>.csv", views.api_ranking_csv, name="api-ranking-csv"),
    path("catalog/branch/", views.switch_catalog_branch, name="switch-catalog-branch"),
]
