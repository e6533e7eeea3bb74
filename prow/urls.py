from django.contrib import admin
from django.urls import include, path

from prow import health

admin.site.site_header = "Prow administration"
admin.site.site_title = "Prow"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("healthz/ready", health.healthz_ready, name="healthz-ready"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("hook.urls")),
    path("api/", include("deck.api.urls")),
    path("", include("deck.metrics")),
    path("", include("deck.urls")),
]
