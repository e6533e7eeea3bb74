"""External plugins receive the webhooks they asked for, signed."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hook.models import WebhookDelivery
from hook.services import RetryLater, delivery_dispatch
from tests.webhooks import SECRET, fixture_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    """A small HTTP server standing in for an external plugin."""
    received = []
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(status["code"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received, status
    server.shutdown()


def configure(plugins_enabled, url, events):
    payload = fixture_payload("issue_comment.created")
    repo = payload["repository"]["full_name"]
    plugins_enabled(
        {},
        extra_yaml=(
            "external_plugins:\n"
            f"  {repo}:\n"
            f"  - name: needs-rebase\n    endpoint: {url}\n    events: {json.dumps(events)}\n"
        ),
    )
    return payload


def test_webhook_is_forwarded_signed(
    post_webhook, plugins_enabled, receiver, fake_github
):
    url, received, _ = receiver
    payload = configure(plugins_enabled, url, ["issue_comment"])
    post_webhook("issue_comment", payload, guid="fwd-1")
    delivery = WebhookDelivery.objects.get(guid="fwd-1")
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DONE
    assert delivery.plugin_results == {"external:needs-rebase": "ok"}
    ((headers, body),) = received
    assert headers["X-GitHub-Event"] == "issue_comment"
    assert headers["X-GitHub-Delivery"] == "fwd-1"
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={expected}"
    assert json.loads(body) == payload


def test_events_not_asked_for_are_not_forwarded(
    post_webhook, plugins_enabled, receiver, fake_github
):
    url, received, _ = receiver
    configure(plugins_enabled, url, ["pull_request"])
    post_webhook("issue_comment", fixture_payload("issue_comment.created"))
    delivery_dispatch(WebhookDelivery.objects.get().pk)
    assert received == []


def test_an_external_plugin_that_is_down_is_retried(
    post_webhook, plugins_enabled, receiver, fake_github
):
    url, received, status = receiver
    payload = configure(plugins_enabled, url, [])
    status["code"] = 503
    post_webhook("issue_comment", payload)
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(RetryLater):
        delivery_dispatch(delivery.pk)
    status["code"] = 200
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DONE
    assert len(received) == 2
