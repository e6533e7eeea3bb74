"""Tide's tasks: the periodic sync (beat asks often; a sync runs once per
tide.sync_period) and the sync of one repository's pools that events ask
for. Both are safe to overlap: each pool is acted on under its own lock,
and a sync holding stale data for a pool leaves it alone."""

import logging

from django.conf import settings

from prow.config.active import active_config
from prow.errors import TransientError
from prow.locks import session_try_lock
from prow.tasks import prow_task
from prow.wakeups import woken
from tide import sync

logger = logging.getLogger(__name__)

TIME_LIMITS = {
    "time_limit": settings.PROW_TIDE_TASK_TIME_LIMIT,
    "soft_time_limit": settings.PROW_TIDE_TASK_TIME_LIMIT - 30,
}


@prow_task(name="tide.tasks.tick", max_retries=0, **TIME_LIMITS)
def tick() -> None:
    config = active_config().config
    if not config.tide.queries or not sync.sync_due(config):
        return
    with session_try_lock("tide:sync") as acquired:
        if not acquired:
            logger.info("tide: a sync is already running")
            return
        try:
            report = sync.sync()
        except TransientError as exc:
            # GitHub unreachable or rate-limited: one line, and the next try
            # a sync period from now rather than at every tick.
            sync.mark_synced()
            logger.warning("tide: sync skipped until the next period: %s", exc)
            return
        logger.info(
            "tide: synced %d pools, %d GraphQL requests (cost %d), actions %s",
            report.pools,
            report.requests,
            report.cost,
            dict(report.actions),
        )


@prow_task(name="tide.tasks.sync_repo", max_retries=5, **TIME_LIMITS)
def sync_repo(org: str, repo: str) -> None:
    woken(org, repo)
    sync.sync(repo=(org, repo))
