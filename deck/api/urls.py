"""The REST API under /api/v1/ and its OpenAPI schema.

Reads are public except webhook deliveries; writes take a token
(`Authorization: Token <key>`, made with `manage.py drf_create_token <user>`)
or a logged-in session with its CSRF token.
"""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from deck.api import config, deliveries, prowjobs, tide
from deck.api.base import not_found
from deck.api.docs import ApiDocsView

urlpatterns = [
    path("v1/prowjobs/", prowjobs.ProwJobListApi.as_view(), name="api-prowjob-list"),
    path(
        "v1/prowjobs/<str:name>/",
        prowjobs.ProwJobDetailApi.as_view(),
        name="api-prowjob-detail",
    ),
    path(
        "v1/prowjobs/<str:name>/rerun/",
        prowjobs.ProwJobRerunApi.as_view(),
        name="api-prowjob-rerun",
    ),
    path(
        "v1/prowjobs/<str:name>/abort/",
        prowjobs.ProwJobAbortApi.as_view(),
        name="api-prowjob-abort",
    ),
    path(
        "v1/periodics/<str:name>/run/",
        prowjobs.PeriodicRunApi.as_view(),
        name="api-periodic-run",
    ),
    path("v1/config/", config.ConfigActiveApi.as_view(), name="api-config"),
    path(
        "v1/config/validate/",
        config.ConfigValidateApi.as_view(),
        name="api-config-validate",
    ),
    path(
        "v1/config/versions/",
        config.ConfigVersionListApi.as_view(),
        name="api-config-version-list",
    ),
    path(
        "v1/config/versions/<int:version_id>/",
        config.ConfigVersionDetailApi.as_view(),
        name="api-config-version-detail",
    ),
    path(
        "v1/deliveries/",
        deliveries.DeliveryListApi.as_view(),
        name="api-delivery-list",
    ),
    path(
        "v1/deliveries/<str:guid>/",
        deliveries.DeliveryDetailApi.as_view(),
        name="api-delivery-detail",
    ),
    path(
        "v1/deliveries/<str:guid>/replay/",
        deliveries.DeliveryReplayApi.as_view(),
        name="api-delivery-replay",
    ),
    path("v1/tide/pools/", tide.TidePoolListApi.as_view(), name="api-tide-pools"),
    path(
        "v1/tide/history/",
        tide.TideHistoryListApi.as_view(),
        name="api-tide-history",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", ApiDocsView.as_view(), name="api-docs"),
    re_path(r"^(?P<path>.*)$", not_found),
]
