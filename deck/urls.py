from django.urls import include, path

from deck import views

app_name = "deck"
urlpatterns = [
    path("", views.index, name="index"),
    path("view/<uuid:name>", views.job_detail, name="job-detail"),
    path("periodics/<str:name>/run", views.run_periodic, name="run-periodic"),
    path("", include("deck.compat_urls")),
]
