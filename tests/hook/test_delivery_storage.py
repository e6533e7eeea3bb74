"""How a delivery is stored: the body as GitHub sent it, in one statement
that survives a connection the database closed, and still readable for
rows stored before payloads became text."""

import json

import psycopg
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hook.models import WebhookDelivery
from tests.webhooks import fixture_payload


@pytest.fixture(autouse=True)
def _broker(clean_broker):
    yield


def _stored_text(guid: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT payload FROM hook_webhookdelivery WHERE guid = %s", [guid]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_body_is_stored_as_sent_and_read_back_parsed(post_webhook):
    body = '{"action": "opened",   "issue": {"number": 7}, "x": "é\\u00e9"}'.encode()
    assert post_webhook("issues", None, raw=body, guid="raw-1").status_code == 200
    assert _stored_text("raw-1") == body.decode()
    delivery = WebhookDelivery.objects.get(guid="raw-1")
    assert delivery.payload == {"action": "opened", "issue": {"number": 7}, "x": "éé"}
    assert delivery.action == "opened"


@pytest.mark.django_db
def test_an_escaped_backslash_before_u0000_is_no_nul(post_webhook):
    body = b'{"action": "opened", "x": "a\\\\u0000b"}'
    assert post_webhook("issues", None, raw=body, guid="bs-1").status_code == 200
    assert WebhookDelivery.objects.get(guid="bs-1").payload["x"] == "a\\u0000b"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"action": "opened", "x": "a\\\\\\u0000b"}',  # an escaped \ then a NUL
        b'{"action": "opened", "a\\u0000": 1}',  # in a key
    ],
)
def test_a_nul_anywhere_gets_400(post_webhook, body):
    response = post_webhook("issues", None, raw=body)
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_many_brackets_but_shallow_is_accepted(post_webhook):
    # More brackets than the depth limit: the cheap count cannot vouch for
    # it, so the parsed value is walked, and found shallow.
    payload = {"action": "opened", "x": [{} for _ in range(300)]}
    assert post_webhook("issues", payload, guid="wide-1").status_code == 200
    assert WebhookDelivery.objects.get(guid="wide-1").payload == payload


@pytest.mark.django_db
def test_a_deep_payload_with_few_brackets_elsewhere_is_refused(post_webhook):
    body = b'{"action": "opened", "x": ' + b"[" * 101 + b"]" * 101 + b"}"
    response = post_webhook("issues", None, raw=body)
    assert response.status_code == 400
    assert b"nested too deeply" in response.content


@pytest.mark.django_db(transaction=True)  # as in production: no outer transaction
def test_a_connection_the_database_closed_is_replaced(post_webhook):
    payload = fixture_payload("issues.opened")
    assert post_webhook("issues", payload, guid="before").status_code == 200
    pid = connection.connection.info.backend_pid
    # What a database restart or an idle timeout does to a kept connection.
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert post_webhook("issues", payload, guid="after").status_code == 200
    assert connection.connection.info.backend_pid != pid
    assert WebhookDelivery.objects.get(guid="after").payload == payload


@pytest.mark.django_db(transaction=True)
def test_a_webhook_sent_again_after_a_lost_answer_is_stored_once(post_webhook):
    payload = fixture_payload("issues.opened")
    for _ in range(3):
        assert post_webhook("issues", payload, guid="again").status_code == 200
    assert WebhookDelivery.objects.filter(guid="again").count() == 1


@pytest.mark.django_db(transaction=True)
def test_deliveries_stored_as_jsonb_stay_readable():
    executor = MigrationExecutor(connection)
    executor.migrate([("hook", "0002_payload_lz4")])
    try:
        payload = {"action": "created", "comment": {"body": "/lgtm"}, "n": [1, 2]}
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO hook_webhookdelivery (guid, event, action, org, repo,"
                " sender, payload, status, attempts, last_error, plugin_results,"
                " received_at, redeliveries) VALUES ('old', 'issue_comment',"
                " 'created', 'o', 'r', 's', %s::jsonb, 'done', 1, '', '{}',"
                " now(), 0)",
                [json.dumps(payload)],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    delivery = WebhookDelivery.objects.get(guid="old")
    assert delivery.payload == payload
    assert json.loads(_stored_text("old")) == payload
