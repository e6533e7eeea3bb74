"""The Redis transport outlives a broker outage (prow/broker.py): tearing
down a connection whose server went away while the worker was busy never
raises anything but a connection error, which Celery recovers from."""

import shutil
import subprocess

import pytest
import redis
from kombu import Connection, Queue

from prow.broker import Channel
from prow.celery import app
from tests.processes import free_port, wait_until


@pytest.fixture
def redis_server():
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is needed for this test (make test installs it)")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: redis.Redis(port=port).ping(), timeout=10, what="redis")
    yield port, process
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def test_the_app_uses_the_resilient_transport_for_redis():
    for url in ("redis://127.0.0.1:6379/0", "rediss://127.0.0.1:6380/0"):
        with app.connection_for_read(url) as connection:
            assert connection.transport.Channel is Channel


def test_teardown_after_the_broker_died_mid_poll_raises_no_attribute_error(
    redis_server,
):
    port, server = redis_server
    connection = Connection(f"redis://127.0.0.1:{port}/0")
    # As in a worker: the task channel first, then others (control, gossip)
    # that the transport closes before it when the connection goes.
    tasks = connection.default_channel
    other = connection.channel()
    connection.Consumer(
        [Queue("control")], channel=other, callbacks=[lambda body, message: None]
    ).consume()
    queue = Queue("tasks")
    with connection.Producer() as producer:
        producer.publish({"n": 1}, routing_key="tasks", declare=[queue])
    received = []
    connection.Consumer(
        [queue],
        channel=tasks,
        callbacks=[lambda body, message: received.append(message)],
    ).consume()
    wait_until(
        lambda: connection.drain_events(timeout=1) or received,
        timeout=10,
        what="a task",
    )
    # Both channels wait in BRPOP, holding one unacknowledged task, when the
    # server goes away.
    other._brpop_start()
    tasks._brpop_start()
    server.terminate()
    server.wait(timeout=10)

    # What Celery does on a lost connection: collect it, then close it.
    connection.collect()
    connection.close()

    # A task that was running meanwhile is acknowledged late: that is a
    # connection error (logged by Celery), not a crash.
    with pytest.raises(redis.exceptions.ConnectionError):
        received[0].ack()
