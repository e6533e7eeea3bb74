import copy

import pytest

from hook.models import WebhookDelivery
from hook.services import delivery_dispatch
from tests.hook.plugins.community import fun_service
from tests.hook.plugins.names import ORG, REPO
from tests.webhooks import fixture_payload


@pytest.fixture
def comment_on_issue(post_webhook, fake_github, clean_broker):
    """Deliver "alice commented body on issue 1" through /hook and handle
    it; the issue carries the labels given (on GitHub and in the event)."""
    fake_github.add_repo(ORG, REPO)

    def deliver(body, *, labels=(), user="alice", action="created"):
        payload = copy.deepcopy(fixture_payload("issue_comment.created"))
        payload["action"] = action
        payload["comment"]["body"] = body
        payload["comment"]["user"]["login"] = user
        payload["sender"]["login"] = user
        payload["issue"]["labels"] = [{"name": name} for name in labels]
        response = post_webhook("issue_comment", payload)
        assert response.status_code == 200
        delivery = WebhookDelivery.objects.latest("received_at")
        delivery_dispatch(delivery.pk)
        delivery.refresh_from_db()
        return delivery

    return deliver


@pytest.fixture
def service(monkeypatch):
    """The outside services the image and joke plugins call, played by a
    local HTTP double."""
    with fun_service(monkeypatch) as double:
        yield double
