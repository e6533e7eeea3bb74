"""Liveness and readiness, for Kubernetes probes and the README's smoke test."""

import logging

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from prow.celery import app

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not ready"
        return f"database unreachable: {type(exc).__name__}: {exc}".strip()
    return None


def check_broker() -> str | None:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=3
            )
    except Exception as exc:  # kombu raises transport-specific errors
        return f"broker unreachable: {type(exc).__name__}: {exc}".strip()
    return None


@never_cache
@require_GET
def healthz_ready(request):
    problems = [p for p in (check_database(), check_broker()) if p]
    if problems:
        logger.warning("not ready: %s", "; ".join(problems))
        return JsonResponse({"ready": False, "problems": problems}, status=503)
    return JsonResponse({"ready": True})
