"""Thin tasks around plank and the reporter; each takes ids and is idempotent."""

from prow.tasks import prow_task

# How many jobs one sync task handles: enough to keep the broker quiet at
# tens of thousands of jobs, few enough that a slow cluster delays little.
BATCH = 50


@prow_task(name="jobs.tasks.sync_prowjob", max_retries=0)
def sync_prowjob(prowjob_id: int) -> None:
    from jobs.plank import sync_job

    sync_job(prowjob_id)


@prow_task(name="jobs.tasks.sync_prowjobs", max_retries=0)
def sync_prowjobs(prowjob_ids: list[int]) -> None:
    from jobs.plank import sync_job

    for prowjob_id in prowjob_ids:
        sync_job(prowjob_id)


@prow_task(name="jobs.tasks.plank_resync", max_retries=0)
def plank_resync() -> None:
    """Look at every unfinished job again: what an event missed is caught."""
    from jobs.plank import jobs_to_sync

    ids = jobs_to_sync()
    for start in range(0, len(ids), BATCH):
        sync_prowjobs.delay(ids[start : start + BATCH])


@prow_task(name="jobs.tasks.report_prowjob", bind=True, max_retries=8)
def report_prowjob(self, prowjob_id: int) -> None:
    from jobs.models import ProwJob
    from jobs.reporter import report_job
    from prow.github.client import GitHubError

    job = ProwJob.objects.filter(pk=prowjob_id).first()
    if job is None:
        return  # deleted by sinker meanwhile
    try:
        report_job(job)
    except GitHubError as exc:
        if exc.permanent:
            raise
        countdown = getattr(exc, "retry_after", None) or min(
            10 * 2**self.request.retries, 600
        )
        raise self.retry(exc=exc, countdown=countdown)


@prow_task(name="jobs.tasks.horologium_tick", max_retries=0)
def horologium_tick() -> None:
    """Start the periodics that are due. Safe to overlap: the decision takes
    a database lock, and is made from the last run of each periodic."""
    from jobs.horologium import tick

    tick()


@prow_task(name="jobs.tasks.sinker_sweep", max_retries=0)
def sinker_sweep() -> None:
    """Beat asks often; the sweep runs once per sinker.resync_period."""
    from django.core.cache import cache

    from jobs.sinker import sweep
    from prow.config.active import active_config
    from prow.config.durations import parse_duration

    period = parse_duration(active_config().config.sinker.resync_period)
    # add() succeeds for one caller per period, across every worker.
    if cache.add("sinker:swept", True, max(int(period.total_seconds()), 60)):
        sweep()


@prow_task(name="jobs.tasks.reconcile_config", bind=True, max_retries=5)
def reconcile_config(self, old_version_id: int | None, new_version_id: int) -> None:
    """What a config change means for open pull requests."""
    from django.core.cache import cache

    from jobs.statusreconciler import reconcile_versions

    report = reconcile_versions(old_version_id, new_version_id)
    if report.should_retry:
        raise self.retry(countdown=min(60 * 2**self.request.retries, 900))
    cache.set(RECONCILED_KEY, new_version_id, None)


RECONCILED_KEY = "status-reconciler:version"


@prow_task(name="jobs.tasks.reconcile_missed_configs", max_retries=0)
def reconcile_missed_configs() -> None:
    """Catch a config change whose reconcile message was lost: compare the
    newest version with the last one reconciled."""
    from django.core.cache import cache

    from prow.config.models import ConfigVersion

    newest = ConfigVersion.objects.order_by("-pk").values_list("pk", flat=True).first()
    if newest is None:
        return
    done = cache.get(RECONCILED_KEY)
    if done is None:
        # Nothing known yet: start from now; changes are not retrospective.
        cache.set(RECONCILED_KEY, newest, None)
    elif done < newest:
        reconcile_config.delay(done, newest)
