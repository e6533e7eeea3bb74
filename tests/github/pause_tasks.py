"""A task that posts one commit status, for workers started by the pause
tests (`celery worker --include tests.github.pause_tasks`)."""

from prow.github.client import github_client
from prow.tasks import prow_task


@prow_task(name="tests.github.pause_tasks.post_status", max_retries=5)
def post_status(sha: str, context: str) -> None:
    github_client("org").create_status(
        "org", "repo", sha, state="pending", context=context
    )
