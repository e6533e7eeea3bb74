"""Waking Tide when something it waits for happens.

A status turning green, a label added, a push, a job finishing: each may
make a pull request mergeable now. The hook and the job controllers call
wake_tide, which schedules a sync of that repository's pools after a short
debounce, so a burst of events (a batch's ten statuses) costs one sync and
the merge follows the last green context within seconds rather than at the
next periodic sync. They sit below Tide, so the task is named, not
imported.
"""

import logging

from django.conf import settings
from django.core.cache import cache

from prow.config.schema import ProwConfig, TideQuery
from prow.tasks import enqueue

logger = logging.getLogger(__name__)

SYNC_REPO_TASK = "tide.tasks.sync_repo"
# Events that may change whether a pull request can merge.
PULL_REQUEST_ACTIONS = frozenset(
    {
        "opened",
        "reopened",
        "synchronize",
        "labeled",
        "unlabeled",
        "edited",
        "ready_for_review",
        "converted_to_draft",
        "milestoned",
        "demilestoned",
        "closed",
    }
)
EVENTS = frozenset(
    {"status", "check_run", "check_suite", "pull_request_review", "push", "issues"}
)


def covers(query: TideQuery, org: str, repo: str) -> bool:
    full = f"{org}/{repo}"
    if full in query.repos:
        return True
    return org in query.orgs and full not in query.excludedRepos


def tide_covers(config: ProwConfig, org: str, repo: str) -> bool:
    return any(covers(query, org, repo) for query in config.tide.queries)


def _pending_key(org: str, repo: str) -> str:
    return f"tide:wake:{org}/{repo}"


def wake_tide(config: ProwConfig, org: str, repo: str) -> bool:
    """Schedule a sync of the repository's pools unless one is already
    scheduled; returns whether this call scheduled it."""
    if not org or not repo or not tide_covers(config, org, repo):
        return False
    delay = settings.PROW_TIDE_DEBOUNCE_SECONDS
    key = _pending_key(org, repo)
    # Waking is an optimisation: with the cache or the broker down, the
    # periodic sync still merges, so nothing here may fail the caller.
    try:
        # The mark outlives the countdown a little, and the task clears it
        # as it starts, so events during a sync schedule the next one.
        if not cache.add(key, True, int(delay) + 30):
            return False
        enqueue(SYNC_REPO_TASK, org, repo, countdown=delay)
    except Exception:
        logger.warning("tide: could not schedule a sync of %s/%s", org, repo)
        try:
            cache.delete(key)
        except Exception:
            logger.debug("tide: wake mark of %s/%s left to expire", org, repo)
        return False
    return True


def woken(org: str, repo: str) -> None:
    """The scheduled sync has started: later events schedule another."""
    cache.delete(_pending_key(org, repo))


def _repo_of(payload: dict) -> tuple[str, str]:
    repository = payload.get("repository") or {}
    owner = repository.get("owner") or {}
    return str(owner.get("login") or ""), str(repository.get("name") or "")


def wake_tide_for_event(config: ProwConfig, event: str, payload: dict) -> bool:
    if not config.tide.queries or not isinstance(payload, dict):
        return False
    action = payload.get("action")
    if event == "pull_request" and action not in PULL_REQUEST_ACTIONS:
        return False
    if event == "issues":
        # Only a blocker issue opening, closing or being labeled matters.
        label = config.tide.blocker_label
        labels = {
            (item or {}).get("name")
            for item in (payload.get("issue") or {}).get("labels") or []
            if isinstance(item, dict)
        }
        if not label or label not in labels | {
            (payload.get("label") or {}).get("name")
        }:
            return False
    elif event != "pull_request" and event not in EVENTS:
        return False
    org, repo = _repo_of(payload)
    return wake_tide(config, org, repo)
