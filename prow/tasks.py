"""The project's task decorator and retry policy, and enqueueing by name.

Every task is declared with prow_task, and so shares one retry policy: a
TransientError (prow.errors) is retried, after the delay the other side
asked for (its retry_after) or else after an exponential backoff with full
jitter, up to the task's max_retries; anything else (a permanent refusal, a
bug) fails the task at once. Tasks therefore never catch errors to retry by
hand.
"""

from celery import Task, shared_task
from celery.contrib.django.task import DjangoTask
from celery.utils.time import get_exponential_backoff_interval

from prow.celery import app
from prow.errors import TransientError

DEFAULTS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    # The backoff of a TransientError without retry_after: 10s, 20s, 40s...
    # at most retry_backoff_max, each drawn at random below that so workers
    # that failed together do not come back together.
    "retry_backoff": 10,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


class ProwTask(DjangoTask):
    """DjangoTask (delay_on_commit) with the project's retry policy."""

    def __call__(self, *args, **kwargs):
        # run(), not super().__call__(): the worker has pushed this call's
        # request already, and Task.__call__ would hide it behind a bare one.
        try:
            return self.run(*args, **kwargs)
        except TransientError as exc:
            # Past max_retries, retry() raises exc itself.
            raise self.retry(exc=exc, countdown=self.retry_countdown(exc))

    def retry_countdown(self, exc: TransientError) -> float:
        if exc.retry_after is not None:
            return max(exc.retry_after, 0)
        return get_exponential_backoff_interval(
            factor=int(self.retry_backoff),
            retries=self.request.retries,
            maximum=self.retry_backoff_max,
            full_jitter=self.retry_jitter,
        )


def prow_task(*, name: str, **options):
    """Declare a Celery task with explicit, stable name and project defaults.

    Names are explicit because a rename strands messages already queued.
    Every task so declared must be idempotent: acks_late redelivers it when a
    worker dies mid-run, and a TransientError runs it again.
    """
    merged = {**DEFAULTS, **options}
    return shared_task(name=name, base=ProwTask, **merged)


def task_named(name: str) -> Task:
    """The registered task called name.

    Services enqueue their app's tasks through this rather than importing
    them, since the tasks module imports the services: the name is the
    contract either way (a rename strands queued messages). A process that
    has not loaded the task modules yet (a web process) loads them first.
    """
    try:
        return app.tasks[name]
    except KeyError:
        app.loader.import_default_modules()
        return app.tasks[name]


def enqueue(name: str, *args, **options) -> None:
    """Send the task called name with args; options as for apply_async
    (countdown, retry...). Routing and task_always_eager apply as for any
    task."""
    task_named(name).apply_async(args, **options)
