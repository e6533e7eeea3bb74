"""The project's task decorator: one place for the defaults every task shares."""

from celery import shared_task

DEFAULTS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


def prow_task(*, name: str, **options):
    """Declare a Celery task with explicit, stable name and project defaults.

    Names are explicit because a rename strands messages already queued.
    Every task so declared must be idempotent: acks_late redelivers it when a
    worker dies mid-run.
    """
    merged = {**DEFAULTS, **options}
    return shared_task(name=name, **merged)
