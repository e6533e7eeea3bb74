"""Thin tasks around plank, the reporter, horologium, sinker and the status
reconciler; each takes ids and is idempotent. A TransientError (a GitHub
outage, a rate limit) is retried by prow_task; nothing here retries by
hand."""

import logging

from django.core.cache import cache

from jobs import horologium, plank, sinker
from jobs.models import ProwJob, Watermark
from jobs.reporter import report_job
from jobs.statusreconciler import reconcile_versions
from prow.config.active import active_config
from prow.config.durations import parse_duration
from prow.config.models import ConfigVersion
from prow.errors import TransientError
from prow.tasks import prow_task

logger = logging.getLogger(__name__)

# How many jobs one sync task handles: enough to keep the broker quiet at
# tens of thousands of jobs, few enough that a slow cluster delays little.
BATCH = 50

# The last config version the status reconciler handled.
RECONCILED = "status-reconciler:version"


class ReconcileIncomplete(TransientError):
    """Some repository could not be reconciled for now (rate limit,
    outage); what was done is not redone on the retry."""


@prow_task(name="jobs.tasks.sync_prowjob", max_retries=0)
def sync_prowjob(prowjob_id: int) -> None:
    plank.sync_job(prowjob_id)


@prow_task(name="jobs.tasks.sync_prowjobs", max_retries=0)
def sync_prowjobs(prowjob_ids: list[int]) -> None:
    # Each job alone: one job's failure (a hostile artifact, a bad spec, a
    # bug) must not keep the rest of the batch from ever being synced; the
    # failed one is looked at again on the next resync.
    for prowjob_id in prowjob_ids:
        try:
            plank.sync_job(prowjob_id)
        except Exception:
            logger.exception("plank: job %s not synced", prowjob_id)


@prow_task(name="jobs.tasks.plank_resync", max_retries=0)
def plank_resync() -> None:
    """Look at every unfinished job again: what an event missed is caught."""
    ids = plank.jobs_to_sync()
    for start in range(0, len(ids), BATCH):
        sync_prowjobs.delay(ids[start : start + BATCH])


@prow_task(name="jobs.tasks.report_prowjob", max_retries=8, retry_backoff_max=600)
def report_prowjob(prowjob_id: int) -> None:
    job = ProwJob.objects.filter(pk=prowjob_id).first()
    if job is None:
        return  # deleted by sinker meanwhile
    report_job(job)


@prow_task(name="jobs.tasks.horologium_tick", max_retries=0)
def horologium_tick() -> None:
    """Start the periodics that are due. Safe to overlap: the decision takes
    a database lock, and is made from the last run of each periodic."""
    horologium.tick()


@prow_task(name="jobs.tasks.sinker_sweep", max_retries=0)
def sinker_sweep() -> None:
    """Beat asks often; the sweep runs once per sinker.resync_period."""
    period = parse_duration(active_config().config.sinker.resync_period)
    # add() succeeds for one caller per period, across every worker.
    if cache.add("sinker:swept", True, max(int(period.total_seconds()), 60)):
        sinker.sweep()


@prow_task(
    name="jobs.tasks.reconcile_config",
    max_retries=5,
    retry_backoff=60,
    retry_backoff_max=900,
)
def reconcile_config(old_version_id: int | None, new_version_id: int) -> None:
    """What a config change means for open pull requests."""
    report = reconcile_versions(old_version_id, new_version_id)
    if report.should_retry:
        raise ReconcileIncomplete(
            f"config {old_version_id} -> {new_version_id}: "
            + "; ".join(f"{f.repo}: {f.message}" for f in report.failures)
        )
    Watermark.advance(RECONCILED, new_version_id)


@prow_task(name="jobs.tasks.reconcile_missed_configs", max_retries=0)
def reconcile_missed_configs() -> None:
    """Catch a config change whose reconcile message was lost: compare the
    newest version with the last one reconciled."""
    newest = ConfigVersion.objects.order_by("-pk").values_list("pk", flat=True).first()
    if newest is None:
        return
    done = Watermark.read(RECONCILED)
    if done is None:
        # Nothing known yet: start from now; changes are not retrospective.
        Watermark.advance(RECONCILED, newest)
    elif done < newest:
        reconcile_config.delay(done, newest)
