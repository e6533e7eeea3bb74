"""The API's documentation page.

Swagger UI comes from drf-spectacular-sidecar's static files, never from a
CDN: clusters that run Prow often cannot reach one, whatever the settings
say.
"""

from django.templatetags.static import static
from drf_spectacular.views import SpectacularSwaggerView

SIDECAR = "drf_spectacular_sidecar/swagger-ui-dist"


class ApiDocsView(SpectacularSwaggerView):
    url_name = "api-schema"
    title = "Prow API"

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return static(f"{SIDECAR}/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return static("deck/favicon.svg")
