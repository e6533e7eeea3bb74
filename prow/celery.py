"""The Celery app, its queues and the beat schedule."""

import os
from enum import StrEnum

from celery import Celery
from django.conf import settings
from kombu import Queue as KombuQueue

# Connects the task timers and a worker's own metrics port.
from prow import metrics  # noqa: F401
from prow.broker import use_resilient_redis_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prow.settings")


class Queue(StrEnum):
    # Split by kind of work so each can be scaled without code changes:
    # webhooks are user-visible and must stay fast, while pod work and Tide
    # may block on remote APIs.
    DEFAULT = "prow"
    HOOK = "hook"
    JOBS = "jobs"
    TIDE = "tide"
    PERIODIC = "periodic"


# Before any broker connection exists: a Redis outage under a busy worker
# must not stop it (prow/broker.py).
use_resilient_redis_transport()
app = Celery("prow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = Queue.DEFAULT
# A worker started without -Q consumes every queue, so one worker is enough
# for a small installation.
app.conf.task_queues = [KombuQueue(q.value) for q in Queue]
# Every beat tick runs on the periodic queue, so a backlog of webhooks or
# pod work never delays the sweeps that catch what those missed. Exact
# names win over the patterns below them.
PERIODIC_TASKS = (
    "prow.config.tasks.sync_config_files",
    "jobs.tasks.plank_resync",
    "jobs.tasks.horologium_tick",
    "jobs.tasks.sinker_sweep",
    "jobs.tasks.reconcile_missed_configs",
    "hook.tasks.sweep_deliveries",
    "hook.tasks.prune_deliveries",
    "tide.tasks.tick",
)
app.conf.task_routes = {
    **{task: {"queue": Queue.PERIODIC} for task in PERIODIC_TASKS},
    "hook.tasks.*": {"queue": Queue.HOOK},
    "jobs.tasks.*": {"queue": Queue.JOBS},
    "tide.tasks.*": {"queue": Queue.TIDE},
}
app.autodiscover_tasks(["prow.config", "hook", "jobs", "tide", "deck"])


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    # (seconds, task, name). Expiry equal to the interval keeps a backlog
    # from piling up. Watching the config files is cheap (two small reads)
    # and a ConfigMap update should be live within seconds.
    schedule = [
        (
            settings.PROW_CONFIG_WATCH_SECONDS,
            "prow.config.tasks.sync_config_files",
            "config: load changed config files",
        ),
        (
            settings.PROW_PLANK_RESYNC_SECONDS,
            "jobs.tasks.plank_resync",
            "plank: look at every unfinished job",
        ),
        (
            settings.PROW_HOROLOGIUM_TICK_SECONDS,
            "jobs.tasks.horologium_tick",
            "horologium: start the periodics that are due",
        ),
        (
            300,
            "jobs.tasks.sinker_sweep",
            "sinker: delete old jobs, pods and logs (per resync_period)",
        ),
        (
            300,
            "jobs.tasks.reconcile_missed_configs",
            "status-reconciler: catch config changes whose message was lost",
        ),
        (
            settings.PROW_HOOK_SWEEP_SECONDS,
            "hook.tasks.sweep_deliveries",
            "hook: re-enqueue deliveries not handled in time",
        ),
        (
            300,
            "hook.tasks.prune_deliveries",
            "hook: delete old handled deliveries (hourly)",
        ),
        (
            settings.PROW_TIDE_TICK_SECONDS,
            "tide.tasks.tick",
            "tide: sync the merge pools (per tide.sync_period)",
        ),
    ]
    for seconds, task, name in schedule:
        sender.add_periodic_task(
            seconds, sender.signature(task), name=name, expires=seconds
        )
