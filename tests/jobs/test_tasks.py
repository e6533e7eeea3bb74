"""The wiring between config changes, beat and the time-driven parts."""

import json

import pytest
import redis
from django.core.cache import cache

from jobs import tasks
from prow.celery import Queue, app
from prow.config.models import ConfigVersion
from prow.config.services import config_version_create

pytestmark = pytest.mark.django_db


def version(text: str) -> ConfigVersion:
    return config_version_create(config_yaml=text, plugins_yaml="", source="api")


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_config_change_asks_for_a_reconcile(
    clean_broker, django_capture_on_commit_callbacks
):
    first = version("log_level: info\n")
    with django_capture_on_commit_callbacks(execute=True):
        second = version("log_level: debug\n")
    messages = [
        json.loads(raw)
        for raw in redis.Redis.from_url(app.conf.broker_url).lrange(Queue.JOBS, 0, -1)
    ]
    reconciles = [
        m for m in messages if m["headers"]["task"] == "jobs.tasks.reconcile_config"
    ]
    assert len(reconciles) == 1
    assert reconciles[0]["headers"]["argsrepr"] == repr([first.pk, second.pk])


def test_missed_config_changes_are_reconciled(eager):
    cache.delete(tasks.RECONCILED_KEY)
    first = version("log_level: info\n")
    tasks.reconcile_missed_configs()
    assert cache.get(tasks.RECONCILED_KEY) == first.pk  # a start point, no work
    second = version("log_level: debug\n")
    tasks.reconcile_missed_configs()
    assert cache.get(tasks.RECONCILED_KEY) == second.pk
