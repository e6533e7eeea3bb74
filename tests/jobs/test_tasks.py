"""The wiring between config changes, beat and the time-driven parts."""

import json
import re

import pytest
import redis
from django.core.cache import cache

from jobs import tasks
from jobs.models import ProwJobState, Watermark
from jobs.services import prowjob_transition
from prow.celery import Queue, app
from prow.tasks import enqueue
from tests.factories import ProwJobFactory, PullFactory, RefsFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_config_change_asks_for_a_reconcile(
    clean_broker, django_capture_on_commit_callbacks, activate_config
):
    first = activate_config(config_yaml="log_level: info\n")
    with django_capture_on_commit_callbacks(execute=True):
        second = activate_config(config_yaml="log_level: debug\n")
    reconciles = queued("jobs.tasks.reconcile_config", Queue.JOBS)
    assert len(reconciles) == 1
    assert reconciles[0]["headers"]["argsrepr"] == repr((first.pk, second.pk))


def queued(task: str, queue: Queue) -> list[dict]:
    broker = redis.Redis.from_url(app.conf.broker_url)
    messages = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
    return [m for m in messages if m["headers"]["task"] == task]


def test_missed_config_changes_are_reconciled(eager, activate_config):
    first = activate_config(config_yaml="log_level: info\n")
    tasks.reconcile_missed_configs()
    # A start point, no work.
    assert Watermark.read(tasks.RECONCILED) == first.pk
    second = activate_config(config_yaml="log_level: debug\n")
    tasks.reconcile_missed_configs()
    assert Watermark.read(tasks.RECONCILED) == second.pk


def test_the_reconciled_version_survives_a_cache_clear(
    clean_broker, settings, activate_config
):
    # A cache of this test's own, since clearing the shared one would flush
    # the broker of every other test run.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    first = activate_config(config_yaml="log_level: info\n")
    tasks.reconcile_missed_configs()
    cache.clear()
    second = activate_config(config_yaml="log_level: debug\n")

    tasks.reconcile_missed_configs()

    # The change is still caught, not taken for a new start point.
    assert Watermark.read(tasks.RECONCILED) == first.pk
    reconciles = queued("jobs.tasks.reconcile_config", Queue.JOBS)
    assert [m["headers"]["argsrepr"] for m in reconciles] == [
        repr((first.pk, second.pk))
    ]


def test_the_watermark_never_moves_back():
    Watermark.advance("test:mark", 7)
    Watermark.advance("test:mark", 5)
    assert Watermark.read("test:mark") == 7
    Watermark.advance("test:mark", 9)
    assert Watermark.read("test:mark") == 9
    assert Watermark.read("test:other") is None


def test_a_task_is_enqueued_by_name_and_routed(clean_broker):
    enqueue("jobs.tasks.sync_prowjob", 123)
    enqueue("jobs.tasks.plank_resync")
    assert [
        m["headers"]["argsrepr"] for m in queued("jobs.tasks.sync_prowjob", Queue.JOBS)
    ] == ["(123,)"]
    assert len(queued("jobs.tasks.plank_resync", Queue.PERIODIC)) == 1


def test_a_task_enqueued_by_name_runs_at_once_when_eager(eager, activate_config):
    first = activate_config(config_yaml="log_level: info\n")
    enqueue("jobs.tasks.reconcile_missed_configs")
    assert Watermark.read(tasks.RECONCILED) == first.pk


def test_a_report_that_github_fails_for_now_is_retried(eager, fake_github):
    head = "a" * 40
    fake_github.add_repo("acme", "app", sha="b" * 40)
    fake_github.add_pull("acme", "app", 7, "alice", head_sha=head)
    job = ProwJobFactory(job="unit", refs=RefsFactory(pulls=[PullFactory(sha=head)]))
    assert prowjob_transition(job, ProwJobState.PENDING, description="Started.")
    fake_github.fail_next("POST", r"^/repos/acme/app/statuses/", status=502, times=2)

    tasks.report_prowjob.apply((job.pk,))

    statuses = fake_github.requests("POST", re.compile(r"^/repos/acme/app/statuses/"))
    assert len(statuses) == 3  # two refused, the third taken
    assert [s.state for s in fake_github.statuses("acme", "app", head)] == ["pending"]
