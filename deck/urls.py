from django.urls import include, path

from deck import tide_views, views

app_name = "deck"
urlpatterns = [
    path("", views.index, name="index"),
    path("jobs", views.configured, name="configured"),
    path("view/<uuid:name>", views.job_detail, name="job-detail"),
    path("view/<uuid:name>/rerun", views.rerun, name="job-rerun"),
    path("view/<uuid:name>/abort", views.abort, name="job-abort"),
    path(
        "view/<uuid:name>/artifacts/<path:path>",
        views.artifact,
        name="job-artifact",
    ),
    path("periodics/<str:name>/run", views.run_periodic, name="run-periodic"),
    path("tide", tide_views.tide, name="tide"),
    path("tide-history", tide_views.tide_history, name="tide-history"),
    path("health", views.health, name="health"),
    path("", include("deck.compat_urls")),
]
