"""Merge when green: an event that may make a pull request mergeable wakes
a sync of its repository at once, rather than waiting for the periodic
sync."""

import pytest

from prow.config.schema import ProwConfig
from prow.wakeups import wake_tide_for_event
from tests.processes import wait_until
from tests.tide.test_scenarios import CONFIG, ORG, REPO, open_pull
from tide import sync

SCOPED = ProwConfig.model_validate(
    {"tide": {"queries": [{"repos": [f"{ORG}/{REPO}"], "labels": ["lgtm"]}]}}
)


def _payload(org=ORG, repo=REPO, **extra):
    return {"repository": {"name": repo, "owner": {"login": org}}, **extra}


@pytest.fixture
def enqueued(monkeypatch, private_cache, settings):
    settings.PROW_TIDE_DEBOUNCE_SECONDS = 0
    sent = []
    monkeypatch.setattr(
        "prow.wakeups.enqueue", lambda name, *args, **kw: sent.append((name, args))
    )
    return sent


def test_a_status_in_scope_wakes_its_repository_once_until_it_runs(enqueued):
    assert wake_tide_for_event(SCOPED, "status", _payload(state="success"))
    # A burst of events while one sync is scheduled schedules nothing more.
    assert not wake_tide_for_event(SCOPED, "status", _payload(state="success"))
    assert enqueued == [("tide.tasks.sync_repo", (ORG, REPO))]


def test_events_that_cannot_change_mergeability_wake_nothing(enqueued):
    assert not wake_tide_for_event(SCOPED, "status", _payload(repo="other"))
    assert not wake_tide_for_event(SCOPED, "pull_request", _payload(action="assigned"))
    assert not wake_tide_for_event(SCOPED, "issue_comment", _payload())
    assert not wake_tide_for_event(ProwConfig(), "status", _payload())
    assert enqueued == []


def test_labels_and_pushes_wake_a_sync(enqueued):
    assert wake_tide_for_event(SCOPED, "pull_request", _payload(action="labeled"))
    assert enqueued == [("tide.tasks.sync_repo", (ORG, REPO))]


@pytest.mark.django_db(transaction=True)
def test_a_status_turning_green_merges_without_the_periodic_sync(
    celery_worker_thread,
    clean_broker,
    fake_github,
    activate_config,
    post_webhook,
    private_cache,
    settings,
):
    settings.PROW_TIDE_DEBOUNCE_SECONDS = 0
    settings.PROW_TIDE_MERGE_RETRY_SECONDS = 0
    fake_github.add_repo(ORG, REPO)
    fake_github.add_branch(ORG, REPO, "main", "b" * 40)
    fake_github.protect_branch(ORG, REPO, "main", contexts=["security-scan"])
    activate_config(config_yaml=CONFIG)
    pull = open_pull(fake_github, 1)
    fake_github.set_status(ORG, REPO, pull.head_sha, "security-scan", "pending")
    sync.sync()
    assert not fake_github.pull(ORG, REPO, 1).merged
    fake_github.set_status(ORG, REPO, pull.head_sha, "security-scan", "success")
    payload = _payload(
        sha=pull.head_sha, state="success", context="security-scan", id=1
    )
    payload["repository"]["full_name"] = f"{ORG}/{REPO}"
    assert post_webhook("status", payload).status_code == 200
    wait_until(
        lambda: fake_github.pull(ORG, REPO, 1).merged, timeout=30, what="the merge"
    )
