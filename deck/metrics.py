"""GET /metrics: every process's counters (prow.metrics) plus what only the
database and the broker know, read at scrape time so any web replica gives
the same answer."""

import logging

from django.db.models import Count, Min
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from hook.models import WebhookDelivery
from jobs.models import ProwJob
from prow import metrics
from prow.celery import Queue, app
from prow.github.transport import stats

logger = logging.getLogger(__name__)


def _queue_lengths() -> dict[str, int]:
    lengths = {}
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        for queue in Queue:
            try:
                declared = channel.queue_declare(queue=queue.value, passive=True)
                lengths[queue.value] = declared.message_count
            except Exception:  # a queue nobody has declared yet is empty
                lengths[queue.value] = 0
    return lengths


class StateCollector:
    """Gauges computed from the database and broker on each scrape."""

    def collect(self):
        jobs = GaugeMetricFamily(
            "prow_prowjobs",
            "ProwJobs in the database, by type and state.",
            labels=["type", "state"],
        )
        for row in ProwJob.objects.values("type", "state").annotate(n=Count("id")):
            jobs.add_metric([row["type"], row["state"]], row["n"])
        yield jobs

        backlog = GaugeMetricFamily(
            "prow_webhook_backlog",
            "Webhook deliveries not handled yet, by status.",
            labels=["status"],
        )
        waiting = WebhookDelivery.objects.filter(
            status__in=[
                WebhookDelivery.Status.PENDING,
                WebhookDelivery.Status.PROCESSING,
            ]
        )
        counts = dict(waiting.values_list("status").annotate(n=Count("id")).order_by())
        for status in (
            WebhookDelivery.Status.PENDING,
            WebhookDelivery.Status.PROCESSING,
        ):
            backlog.add_metric([status.value], counts.get(status, 0))
        yield backlog
        oldest = waiting.aggregate(oldest=Min("received_at"))["oldest"]
        yield GaugeMetricFamily(
            "prow_webhook_backlog_oldest_seconds",
            "Age of the oldest delivery not handled yet (0: none waits).",
            value=(timezone.now() - oldest).total_seconds() if oldest else 0,
        )

        queues = GaugeMetricFamily(
            "prow_celery_queue_length",
            "Tasks waiting in each Celery queue.",
            labels=["queue"],
        )
        try:
            for name, length in _queue_lengths().items():
                queues.add_metric([name], length)
        except Exception as exc:  # the broker is down: say so by its absence
            logger.warning("metrics: broker unreachable: %s", exc)
        yield queues

        cache = CounterMetricFamily(
            "prow_github_cache",
            "GitHub reads answered from the ETag cache (hits) or not (misses), "
            "rate limits met and retries, across every process.",
            labels=["result"],
        )
        try:
            for name, value in stats.snapshot().items():
                cache.add_metric([name], value or 0)
        except Exception as exc:
            logger.warning("metrics: cache unreachable: %s", exc)
        yield cache


@never_cache
@require_GET
def metrics_view(request):
    registry = metrics.registry()
    registry.register(StateCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


urlpatterns = [path("metrics", metrics_view, name="metrics")]
