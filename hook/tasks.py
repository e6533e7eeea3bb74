"""Thin tasks around hook's services; each takes ids and is idempotent.

A delivery whose plugins hit a transient error raises RetryLater (a
TransientError), which prow_task retries."""

from django.core.cache import cache

from hook.retention import deliveries_prune
from hook.services import deliveries_dispatch, deliveries_sweep, delivery_dispatch
from prow.tasks import prow_task

# How often old deliveries are looked for; beat asks more often.
PRUNE_SECONDS = 3600


# Its time limits are set in settings (CELERY_TASK_ANNOTATIONS), beside the
# stale timeout they must stay under.
@prow_task(
    name="hook.tasks.handle_delivery",
    max_retries=5,
    retry_backoff=30,
    retry_backoff_max=600,
)
def handle_delivery(delivery_id: int) -> None:
    delivery_dispatch(delivery_id)


@prow_task(name="hook.tasks.handle_deliveries", max_retries=0)
def handle_deliveries(delivery_ids: list[int]) -> None:
    """Several new deliveries sent in one message (hook.dispatch)."""
    deliveries_dispatch(delivery_ids)


@prow_task(name="hook.tasks.sweep_deliveries", max_retries=0)
def sweep_deliveries() -> None:
    deliveries_sweep()


@prow_task(name="hook.tasks.prune_deliveries", max_retries=0)
def prune_deliveries() -> None:
    """Delete old handled deliveries, once per PRUNE_SECONDS across every
    worker (add() succeeds for one caller per period)."""
    if cache.add("hook:pruned", True, PRUNE_SECONDS):
        deliveries_prune()
