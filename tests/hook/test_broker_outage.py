"""A busy worker outlives Redis outages: the broker is stopped and started
under a worker handling a stream of webhooks, and the same worker process
goes on consuming by itself, with every delivery's effect exactly once."""

import time
import uuid

import pytest

from hook.models import WebhookDelivery
from hook.services import deliveries_sweep
from tests.conftest import reset_celery_connections
from tests.hook.recording_plugins import create_table, effects
from tests.hook.test_resilience import (
    ORG,
    REPO,
    all_done,
    assert_each_handled_exactly_once,
    comment_payload,
    worker_args,
    worker_env,
)
from tests.processes import own_redis, read_log, running, wait_until
from tests.webhooks import EXTRA

Status = WebhookDelivery.Status
# Webhooks a second, as an operator's steady traffic.
RATE = 8
BURST = 40


@pytest.fixture
def persistent_redis(tmp_path):
    """A Redis of this test's own, append-only like the deployed one, so
    what was queued survives its restart."""
    data = tmp_path / "redis"
    data.mkdir()
    with own_redis(data) as server:
        yield server


@pytest.mark.django_db(transaction=True)
def test_busy_worker_survives_broker_outages_of_up_to_a_minute(
    request,
    tmp_path,
    monkeypatch,
    settings,
    persistent_redis,
    post_webhook,
    plugins_enabled,
):
    broker_url, start_broker, stop_broker = persistent_redis
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    reset_celery_connections()
    request.addfinalizer(reset_celery_connections)
    monkeypatch.setenv("PROW_EXTRA_PLUGINS", EXTRA)
    create_table()
    plugins_enabled({f"{ORG}/{REPO}": ["recorder"]})
    # One message per webhook, so the worker holds tasks running, reserved
    # and unacknowledged whenever the broker goes.
    settings.PROW_HOOK_DISPATCH_BATCH = 1
    env = worker_env(tmp_path, broker_url, RECORDER_SLEEP="0.1")
    log = tmp_path / "worker.log"
    guids = []

    def post_for(seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            guid = str(uuid.uuid4())
            guids.append(guid)
            response = post_webhook(
                "issue_comment", comment_payload(len(guids)), guid=guid
            )
            assert response.status_code == 200
            time.sleep(1 / RATE)

    def consumed_since(count):
        return lambda: len(effects()) > count

    with running(worker_args(), env, log) as worker:
        post_for(1)
        wait_until(consumed_since(0), timeout=60, what="the worker to start")
        for outage in (5, 60):
            post_for(2)
            # A burst the worker cannot keep up with, so that it holds tasks
            # running, reserved and unacknowledged when the broker goes,
            # however fast this machine is today.
            for _ in range(BURST):
                guid = str(uuid.uuid4())
                guids.append(guid)
                response = post_webhook(
                    "issue_comment", comment_payload(len(guids)), guid=guid
                )
                assert response.status_code == 200
            assert WebhookDelivery.objects.exclude(status=Status.DONE).exists(), (
                "the broker should go while the worker is busy"
            )
            stop_broker()
            post_for(outage)
            start_broker()
            before = len(effects())
            post_for(2)
            # Kombu's reconnect interval grows to 30 s during a long outage.
            try:
                wait_until(consumed_since(before), timeout=45, what="consuming again")
            except AssertionError:
                raise AssertionError(read_log(log))
            assert worker.poll() is None, read_log(log)

        # What the broker never received (posted during the outage) is
        # enqueued again by the sweeper, as beat runs it.
        settings.PROW_HOOK_SWEEP_AFTER_SECONDS = 10

        def finished():
            assert worker.poll() is None, read_log(log)
            deliveries_sweep()
            return all_done()

        try:
            wait_until(finished, timeout=120, interval=2, what="every delivery")
        except AssertionError:
            raise AssertionError(read_log(log))
        time.sleep(1)
        assert worker.poll() is None, "the same worker process throughout"
    text = log.read_text()
    assert text.count("Connection to broker lost") >= 2, read_log(log)
    assert "Unrecoverable error" not in text, read_log(log)
    assert_each_handled_exactly_once(guids)
