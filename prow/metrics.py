"""Prometheus metrics, counted in every process and summed when scraped.

prometheus-client's multiprocess mode: each gunicorn worker and each Celery
pool process writes its samples to files under PROMETHEUS_MULTIPROC_DIR
(default: `metrics/` in the data folder), and whoever answers a scrape adds
up the files of every process. Web answers at /metrics (deck.metrics adds
what the database and broker know); a worker with PROW_METRICS_PORT set
answers on that port, since in a container it has a folder of its own.

What is counted where happens to run: webhooks by the web middleware below,
task, delivery and plank sync times by Celery's signals, plugins by hook,
finished ProwJobs by jobs, GitHub answers by the GitHub transport.
"""

import logging
import os
import time
from pathlib import Path

from celery import signals
from django.conf import settings
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
    values,
)

logger = logging.getLogger(__name__)


def _use_multiprocess_dir() -> str:
    # Read from the environment as the settings do, since Celery imports this
    # module before the settings are loaded.
    data_dir = os.environ.get("PROW_DATA_DIR") or Path(__file__).parent.parent / "data"
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(
        Path(data_dir).resolve() / "metrics"
    )
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    os.makedirs(path, exist_ok=True)
    # The client picks its storage when it is imported; this module may be
    # imported before the variable is set (Celery loads it with the app).
    values.ValueClass = values.get_value_class()
    return path


MULTIPROC_DIR = _use_multiprocess_dir()

# Handling times run from milliseconds (a label) to minutes (a job's pod).
SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
JOB_SECONDS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)

WEBHOOKS = Counter(
    "prow_webhooks",
    "Webhooks received, by GitHub event and outcome.",
    ["event", "outcome"],
)
DELIVERY_SECONDS = Histogram(
    "prow_delivery_handling_seconds",
    "Time a worker spent handling webhook deliveries, per task.",
    ["task"],
    buckets=SECONDS,
)
PLUGIN_SECONDS = Histogram(
    "prow_plugin_handling_seconds",
    "Time one plugin spent on one delivery.",
    ["plugin"],
    buckets=SECONDS,
)
PLUGIN_ERRORS = Counter(
    "prow_plugin_errors",
    "Plugin runs that failed, by plugin.",
    ["plugin"],
)
PROWJOBS_COMPLETED = Counter(
    "prow_prowjobs_completed",
    "ProwJobs that finished, by type and state.",
    ["type", "state"],
)
PROWJOB_SECONDS = Histogram(
    "prow_prowjob_duration_seconds",
    "From a ProwJob's start to its completion.",
    ["type", "state"],
    buckets=JOB_SECONDS,
)
PLANK_SYNC_SECONDS = Histogram(
    "prow_plank_sync_seconds",
    "Time plank spent on one sync task (one job or a batch).",
    ["task"],
    buckets=SECONDS,
)
TASKS = Counter(
    "prow_celery_tasks",
    "Celery tasks run, by task and outcome.",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "prow_celery_task_seconds",
    "Time each Celery task ran.",
    ["task"],
    buckets=SECONDS,
)
GITHUB_REQUESTS = Counter(
    "prow_github_requests",
    "Requests to GitHub, by outcome (the status class, cached, or error).",
    ["outcome"],
)
GITHUB_RATE_REMAINING = Gauge(
    "prow_github_rate_limit_remaining",
    "Requests GitHub said are left in the current rate limit window.",
    ["resource"],
    multiprocess_mode="mostrecent",
)

TIDE_SYNC_SECONDS = Histogram(
    "prow_tide_sync_seconds",
    "Time one Tide sync took, reading GitHub and acting on its pools.",
    ["scope"],
    buckets=SECONDS,
)
TIDE_GRAPHQL = Counter(
    "prow_tide_graphql_requests",
    "GraphQL requests Tide sent to read GitHub, by kind of read.",
    ["read"],
)
TIDE_GRAPHQL_COST = Counter(
    "prow_tide_graphql_cost",
    "Rate-limit points GitHub charged for Tide's reads.",
    ["read"],
)
TIDE_MERGES = Counter(
    "prow_tide_merges",
    "Pull requests Tide merged, by repository.",
    ["org", "repo"],
)
TIDE_ACTIONS = Counter(
    "prow_tide_actions",
    "Actions Tide decided on, by action.",
    ["action"],
)
TIDE_POOL_PULLS = Gauge(
    "prow_tide_pool_pull_requests",
    "Pull requests in each Tide pool by state, as of its last sync.",
    ["org", "repo", "branch", "state"],
    multiprocess_mode="mostrecent",
)

DELIVERY_TASKS = {"hook.tasks.handle_delivery", "hook.tasks.handle_deliveries"}
PLANK_TASKS = {"jobs.tasks.sync_prowjob", "jobs.tasks.sync_prowjobs"}


def registry() -> CollectorRegistry:
    """A registry that reads every process's samples."""
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected, path=MULTIPROC_DIR)
    return collected


def webhook_received(event: str, status: int) -> None:
    if status < 300:
        outcome = "accepted"
    elif status in (401, 403):
        outcome = "rejected"
    elif status < 500:
        outcome = "invalid"
    else:
        outcome = "unavailable"
    # Only a verified webhook's event name is used as a label: anyone can
    # send any header, and each distinct value would be a new series.
    WEBHOOKS.labels(event=event if outcome == "accepted" else "", outcome=outcome).inc()


class WebhookMetricsMiddleware:
    """Counts what /hook answered, whichever way the view decided."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path == "/hook" and request.method == "POST":
            event = request.headers.get("X-GitHub-Event", "")[:64]
            webhook_received(event, response.status_code)
        return response


def plugin_handled(plugin: str, ok: bool, seconds: float) -> None:
    PLUGIN_SECONDS.labels(plugin=plugin).observe(seconds)
    if not ok:
        PLUGIN_ERRORS.labels(plugin=plugin).inc()


def prowjob_completed(job_type: str, state: str, start, completion) -> None:
    PROWJOBS_COMPLETED.labels(type=job_type, state=state).inc()
    if start is not None and completion is not None:
        seconds = max((completion - start).total_seconds(), 0)
        PROWJOB_SECONDS.labels(type=job_type, state=state).observe(seconds)


def github_response(response) -> None:
    """One answer from GitHub (after the transport's own retries)."""
    status = response.status_code
    GITHUB_REQUESTS.labels(outcome=f"{status // 100}xx").inc()
    remaining = response.headers.get("X-RateLimit-Remaining")
    if remaining is not None and remaining.isdigit():
        resource = response.headers.get("X-RateLimit-Resource", "core")[:32]
        GITHUB_RATE_REMAINING.labels(resource=resource).set(int(remaining))


def github_cached() -> None:
    GITHUB_REQUESTS.labels(outcome="cached").inc()


def github_failed() -> None:
    GITHUB_REQUESTS.labels(outcome="error").inc()


def tide_read(requests: int, cost: int, *, full: bool) -> None:
    read = "full" if full else "incremental"
    TIDE_GRAPHQL.labels(read=read).inc(requests)
    TIDE_GRAPHQL_COST.labels(read=read).inc(cost)


def tide_synced(seconds: float, *, full: bool) -> None:
    TIDE_SYNC_SECONDS.labels(scope="all" if full else "repo").observe(seconds)


def tide_merged(org: str, repo: str) -> None:
    TIDE_MERGES.labels(org=org, repo=repo).inc()


def tide_pool(org: str, repo: str, branch: str, action: str, sizes: dict) -> None:
    TIDE_ACTIONS.labels(action=action).inc()
    for state, count in sizes.items():
        TIDE_POOL_PULLS.labels(org=org, repo=repo, branch=branch, state=state).set(
            count
        )


_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_started(task_id=None, **kwargs):
    _started[task_id] = time.monotonic()


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    if started is None or task is None:
        return
    seconds = time.monotonic() - started
    name = task.name
    TASKS.labels(task=name, outcome=(state or "unknown").lower()).inc()
    TASK_SECONDS.labels(task=name).observe(seconds)
    if name in DELIVERY_TASKS:
        DELIVERY_SECONDS.labels(task=name).observe(seconds)
    elif name in PLANK_TASKS:
        PLANK_SYNC_SECONDS.labels(task=name).observe(seconds)


@signals.worker_init.connect
def _serve_worker_metrics(**kwargs):
    port = getattr(settings, "PROW_METRICS_PORT", 0)
    if port:
        start_http_server(port, registry=registry())
        logger.info("metrics of this worker's processes on port %s", port)


@signals.worker_process_shutdown.connect
def _forget_process(pid=None, **kwargs):
    # Keeps "live" gauges from reporting a pool process that is gone.
    multiprocess.mark_process_dead(pid or os.getpid(), MULTIPROC_DIR)
