"""The project's URLs plus /bench/bare, the baseline /hook is compared with."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from prow.urls import urlpatterns as base


@csrf_exempt
@require_POST
def bare(request):
    # Read the body as /hook does, so the difference between the two is the
    # webhook's own work (JSON, HMAC, database, broker), not the request I/O.
    request.body  # noqa: B018
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [*base, path("bench/bare", bare, name="bench-bare")]
