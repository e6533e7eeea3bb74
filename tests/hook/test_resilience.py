"""Nothing is lost and nothing is done twice: a broker that goes down while
webhooks arrive, and a worker killed with SIGKILL in the middle of a burst."""

import os
import signal
import time
import uuid

import pytest
import redis
from django.db import connection

from hook.models import WebhookDelivery
from hook.services import deliveries_sweep
from prow.celery import app
from tests.conftest import reset_celery_connections
from tests.hook.recording_plugins import create_table, effects
from tests.processes import (
    VENV_BIN,
    own_redis,
    project_env,
    read_log,
    running,
    wait_until,
)
from tests.webhooks import EXTRA, fixture_payload

Status = WebhookDelivery.Status
ORG, REPO = "Codertocat", "Hello-World"


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def worker_env(tmp_path, broker_url, **extra):
    return project_env(
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=broker_url,
        PROW_EXTRA_PLUGINS=EXTRA,
        PROW_DATA_DIR=tmp_path,
        **extra,
    )


def worker_args(concurrency=2):
    return [
        f"{VENV_BIN}/celery",
        "-A",
        "prow",
        "worker",
        "--concurrency",
        str(concurrency),
        "-l",
        "INFO",
    ]


def comment_payload(n: int) -> dict:
    payload = fixture_payload("issue_comment.created")
    payload["comment"]["body"] = f"comment {n}"
    return payload


def all_done() -> bool:
    return not WebhookDelivery.objects.exclude(status=Status.DONE).exists()


def assert_each_handled_exactly_once(guids):
    seen = [guid for guid, _ in effects()]
    assert sorted(seen) == sorted(guids), "every delivery's effect, each once"
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        Status.DONE
    }


@pytest.fixture
def private_redis():
    """A Redis server of this test's own, so the test can stop the broker."""
    with own_redis() as server:
        yield server


@pytest.mark.django_db(transaction=True)
def test_broker_down_while_webhooks_arrive(
    request,
    tmp_path,
    monkeypatch,
    settings,
    private_redis,
    post_webhook,
    plugins_enabled,
):
    broker_url, start_broker, stop_broker = private_redis
    # Celery reads the broker URL from the environment first; its connection
    # pool is dropped so it connects to this broker, and again at the end.
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    reset_celery_connections()
    request.addfinalizer(reset_celery_connections)
    monkeypatch.setenv("PROW_EXTRA_PLUGINS", EXTRA)
    create_table()
    plugins_enabled({f"{ORG}/{REPO}": ["recorder"]})
    stop_broker()

    guids = [str(uuid.uuid4()) for _ in range(10)]
    started = time.monotonic()
    for n, guid in enumerate(guids):
        response = post_webhook("issue_comment", comment_payload(n), guid=guid)
        assert response.status_code == 200  # stored, so acknowledged
    elapsed = time.monotonic() - started
    assert WebhookDelivery.objects.filter(status=Status.PENDING).count() == 10
    assert elapsed < 60, "a dead broker must not hang the endpoint"

    start_broker()
    env = worker_env(tmp_path, broker_url)
    with running(worker_args(), env, tmp_path / "worker.log"):
        settings.PROW_HOOK_SWEEP_AFTER_SECONDS = 0
        assert deliveries_sweep() == 10
        try:
            wait_until(all_done, timeout=60, what="the swept deliveries")
        except AssertionError:
            raise AssertionError(read_log(tmp_path / "worker.log"))
        # The sweeper running again (overlapping ticks) changes nothing.
        deliveries_sweep()
        time.sleep(1)
    assert_each_handled_exactly_once(guids)


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_burst_is_recovered_exactly_once(
    tmp_path, settings, post_webhook, plugins_enabled, monkeypatch
):
    monkeypatch.setenv("PROW_EXTRA_PLUGINS", EXTRA)
    redis.Redis.from_url(app.conf.broker_url).flushdb()
    create_table()
    plugins_enabled({f"{ORG}/{REPO}": ["recorder"]})
    # Short limits so the test takes seconds: a delivery whose worker has
    # been silent for 6 s is taken over (the default is minutes).
    limits = {"PROW_HOOK_TASK_TIME_LIMIT": 4, "PROW_HOOK_STALE_SECONDS": 6}
    settings.PROW_HOOK_STALE_SECONDS = 6
    settings.PROW_HOOK_SWEEP_AFTER_SECONDS = 6
    env = worker_env(tmp_path, app.conf.broker_url, RECORDER_SLEEP="0.3", **limits)

    guids = [str(uuid.uuid4()) for _ in range(30)]
    log = tmp_path / "worker-1.log"
    with running(worker_args(), env, log) as first:
        for n, guid in enumerate(guids):
            assert (
                post_webhook("issue_comment", comment_payload(n), guid=guid).status_code
                == 200
            )
        wait_until(
            lambda: len(effects()) >= 5,
            timeout=60,
            what="the worker to start on the burst",
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    unfinished = WebhookDelivery.objects.exclude(status=Status.DONE).count()
    assert unfinished > 0, "the kill should have left deliveries unfinished"

    with running(worker_args(), env, tmp_path / "worker-2.log"):

        def recovered():
            deliveries_sweep()
            return all_done()

        try:
            wait_until(
                recovered, timeout=120, interval=2, what="recovery after SIGKILL"
            )
        except AssertionError:
            raise AssertionError(read_log(tmp_path / "worker-2.log"))
    assert_each_handled_exactly_once(guids)
    assert WebhookDelivery.objects.filter(attempts__gt=1).exists(), list(
        WebhookDelivery.objects.values_list(
            "attempts", "status", "started_at", "finished_at"
        )
    )
