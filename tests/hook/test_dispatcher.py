"""The web side's dispatcher: new deliveries reach the broker in batches,
off the request thread, and a broker outage costs nothing but a warning
(the sweeper has the rows)."""

import base64
import json

import pytest
import redis

import hook.services as services
from hook.dispatch import DeliveryDispatcher
from hook.models import WebhookDelivery
from hook.services import deliveries_dispatch
from prow.celery import Queue, app
from tests.conftest import reset_celery_connections
from tests.hook.recording_plugins import create_table, effects
from tests.webhooks import fixture_payload


def queued_batches() -> list[list[int]]:
    broker = redis.Redis.from_url(app.conf.broker_url)
    batches = []
    for raw in reversed(broker.lrange(Queue.HOOK.value, 0, -1)):  # oldest first
        message = json.loads(raw)
        assert message["headers"]["task"] == "hook.tasks.handle_deliveries"
        batches.append(json.loads(base64.b64decode(message["body"]))[0][0])
    return batches


def test_ids_are_sent_together_and_in_order(clean_broker):
    dispatcher = DeliveryDispatcher(linger=0.3, batch=3)
    for pk in range(1, 8):
        dispatcher.submit(pk)
    assert dispatcher.flush(timeout=10)
    batches = queued_batches()
    assert [pk for batch in batches for pk in batch] == list(range(1, 8))
    assert all(len(batch) <= 3 for batch in batches)
    assert len(batches) < 7


def test_an_idle_dispatcher_sends_a_lone_id_at_once(clean_broker):
    dispatcher = DeliveryDispatcher(linger=30.0, batch=8)
    dispatcher.submit(42)
    assert dispatcher.flush(timeout=5), "a lone id must not wait for the linger"
    assert queued_batches() == [[42]]


def test_a_dead_broker_is_a_warning_not_an_error(monkeypatch, request):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    reset_celery_connections()
    request.addfinalizer(reset_celery_connections)
    dispatcher = DeliveryDispatcher(linger=0.0, batch=8)
    dispatcher.submit(7)
    dispatcher.submit(8)
    assert dispatcher.flush(timeout=30)
    assert dispatcher.unsent == 2


@pytest.mark.django_db
def test_one_delivery_failing_does_not_stop_the_batch(
    post_webhook, plugins_enabled, extra_plugins, monkeypatch
):
    create_table()
    plugins_enabled({"Codertocat/Hello-World": ["recorder"]})
    ids = []
    for n in range(3):
        payload = fixture_payload("issue_comment.created")
        payload["comment"]["body"] = f"comment {n}"
        post_webhook("issue_comment", payload, guid=f"batch-{n}")
        ids.append(WebhookDelivery.objects.get(guid=f"batch-{n}").pk)

    real = services.delivery_dispatch

    def broken_for_the_middle(pk):
        if pk == ids[1]:
            raise RuntimeError("boom")
        real(pk)

    monkeypatch.setattr(services, "delivery_dispatch", broken_for_the_middle)
    deliveries_dispatch(ids)
    assert sorted(guid for guid, _ in effects()) == ["batch-0", "batch-2"]
    done = set(
        WebhookDelivery.objects.filter(status="done").values_list("guid", flat=True)
    )
    assert done == {"batch-0", "batch-2"}
