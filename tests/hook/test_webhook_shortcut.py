"""POST /hook skips the middleware meant for people, and the fast JSON
parser answers as json did."""

import json

import pytest
from django.db import connection
from django.urls import reverse

from hook.models import WebhookDelivery
from hook.views import WEBHOOK_PATH
from prow.metrics import WEBHOOKS
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _broker(clean_broker):
    yield


def test_the_shortcut_watches_the_webhooks_own_address():
    assert reverse("hook") == WEBHOOK_PATH


def test_a_webhook_meets_no_session_user_or_csrf(post_webhook):
    response = post_webhook("issues", fixture_payload("issues.opened"))
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")
    assert "Set-Cookie" not in response
    assert WebhookDelivery.objects.count() == 1


def test_other_addresses_still_get_the_whole_stack(client):
    response = client.get("/plugin-help")
    assert hasattr(response.wsgi_request, "session")
    assert hasattr(response.wsgi_request, "user")


def test_a_webhook_answer_keeps_the_headers_it_had(post_webhook):
    response = post_webhook("issues", fixture_payload("issues.opened"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(response.content))


def test_a_refused_webhook_is_still_counted(post_webhook):
    def rejected() -> float:
        return WEBHOOKS.labels(event="", outcome="rejected")._value.get()

    before = rejected()
    response = post_webhook("issues", fixture_payload("issues.opened"), secret="bad")
    assert response.status_code == 403
    assert rejected() == before + 1


@pytest.mark.parametrize(
    "raw",
    [
        # What orjson refuses and json takes: json's answer stands.
        b'{"action": "opened", "x": NaN}',
        b'{"action": "opened", "x": 1e400}',
        b'{"action": "opened", "x": "\\ud800"}',
        b'\xef\xbb\xbf{"action": "opened"}',
    ],
)
def test_json_that_only_json_reads_is_stored_as_before(post_webhook, raw):
    response = post_webhook("issues", None, raw=raw, guid="lenient")
    assert response.status_code == 200
    assert WebhookDelivery.objects.get(guid="lenient").action == "opened"


def test_big_integers_are_stored_exactly(post_webhook):
    raw = b'{"action": "opened", "id": 123456789012345678901234567890}'
    assert post_webhook("issues", None, raw=raw, guid="big").status_code == 200
    payload = WebhookDelivery.objects.get(guid="big").payload
    assert payload["id"] == 123456789012345678901234567890


@pytest.mark.parametrize(
    "raw",
    [
        b'{"action": "opened",}',
        b'{"action": "op\xffened"}',
        b"[1, 2]",
        json.dumps("a string").encode(),
    ],
)
def test_what_json_refused_is_still_a_400(post_webhook, raw):
    response = post_webhook("issues", None, raw=raw)
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_nesting_past_orjsons_limit_is_too_deep_not_invalid(post_webhook):
    body = b'{"action": "opened", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}"
    response = post_webhook("issues", None, raw=body)
    assert response.status_code == 400
    assert b"nested too deeply" in response.content


def test_no_prefix_indexes_slow_down_storing_a_webhook():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s",
            [WebhookDelivery._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert not [d for d in definitions if "pattern_ops" in d]
    # What lookups and the sweeper need is still there.
    assert any("(guid)" in d and "UNIQUE" in d for d in definitions)
    assert any("delivery_unfinished" in d and "WHERE" in d for d in definitions)
