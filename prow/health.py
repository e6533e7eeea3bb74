"""Liveness and readiness, for Kubernetes probes and the README's smoke test."""

import logging
import time

from celery.signals import beat_init, before_task_publish
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from prow.celery import app
from prow.config.startup import config_missing
from prow.github.pause import paused_credentials

logger = logging.getLogger(__name__)

# When beat last sent a task, for the health page: beat has no port to ask,
# and a beat that died leaves every sweep and periodic silently undone.
BEAT_TICK_KEY = "prow:beat:last-tick"


@never_cache
@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def _unreachable(what: str, exc: Exception) -> str:
    # The probe is unauthenticated; driver messages can name hosts, users
    # and paths, so they go to the log and only the error's kind is shown.
    logger.warning("%s unreachable: %s: %s", what, type(exc).__name__, exc)
    return f"{what} unreachable: {type(exc).__name__}"


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not ready"
        return _unreachable("database", exc)
    return None


def check_broker() -> str | None:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=3
            )
    except Exception as exc:  # kombu raises transport-specific errors
        return _unreachable("broker", exc)
    return None


def check_config() -> str | None:
    """A process without an active config would drop the webhooks it
    takes, so it is not ready until one is (loading the files if need be)."""
    try:
        return config_missing()
    except Exception as exc:  # not migrated yet, or the database went away
        logger.warning("no config loaded: %s: %s", type(exc).__name__, exc)
        return f"no config loaded: {type(exc).__name__}"


@never_cache
@require_GET
def healthz_ready(request):
    problems = [p for p in (check_database(), check_broker()) if p]
    if not problems:
        # Asked only of a reachable database, so its outage is said once.
        problems = [p for p in (check_config(),) if p]
    # A paused GitHub credential is not unreadiness (calls wait or are
    # retried later), but an operator wants to see it, and until when.
    paused = {"github_paused": found} if (found := paused_credentials()) else {}
    if problems:
        logger.warning("not ready: %s", "; ".join(problems))
        return JsonResponse(
            {"ready": False, "problems": problems, **paused}, status=503
        )
    return JsonResponse({"ready": True, **paused})


@beat_init.connect
def _watch_beat_ticks(sender=None, **kwargs):
    # Connected only in beat, so a web or worker process sending a task
    # never passes for a tick.
    before_task_publish.connect(_beat_ticked, weak=False)


def _beat_ticked(sender=None, **kwargs):
    try:
        cache.set(BEAT_TICK_KEY, time.time(), None)
    except Exception:
        logger.warning("beat tick not recorded", exc_info=True)
