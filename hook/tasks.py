from prow.tasks import prow_task


# Its time limits are set in settings (CELERY_TASK_ANNOTATIONS), beside the
# stale timeout they must stay under.
@prow_task(name="hook.tasks.handle_delivery", bind=True, max_retries=5)
def handle_delivery(self, delivery_id: int) -> None:
    from hook.services import RetryLater, delivery_dispatch

    try:
        delivery_dispatch(delivery_id)
    except RetryLater as exc:
        countdown = exc.retry_after or min(30 * 2**self.request.retries, 600)
        raise self.retry(exc=exc, countdown=countdown)


@prow_task(name="hook.tasks.handle_deliveries", max_retries=0)
def handle_deliveries(delivery_ids: list[int]) -> None:
    """Several new deliveries sent in one message (hook.dispatch)."""
    from hook.services import deliveries_dispatch

    deliveries_dispatch(delivery_ids)


@prow_task(name="hook.tasks.sweep_deliveries", max_retries=0)
def sweep_deliveries() -> None:
    from hook.services import deliveries_sweep

    deliveries_sweep()
