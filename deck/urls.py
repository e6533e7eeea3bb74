from django.urls import include, path

from deck import views

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
    path("", include("deck.compat_urls")),
]
