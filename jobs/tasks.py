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
