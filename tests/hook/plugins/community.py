"""Shared by the community plugins' tests: events delivered through /hook
and handled as the worker would, and the fun services' double."""

import copy
from contextlib import contextmanager

from hook import services
from hook.models import WebhookDelivery
from hook.plugins import images
from tests.hook.plugins.names import ORG, REPO
from tests.hook.plugins.service_double import ServiceDouble
from tests.webhooks import fixture_payload

COMMENT_ID = 492700400
COMMENT_URL = f"https://github.com/{ORG}/{REPO}/issues/1#issuecomment-{COMMENT_ID}"
# Short, so that a slow service costs the suite little.
TIMEOUT = 0.5


def comment_payload(
    body: str,
    *,
    user: str = "alice",
    number: int = 1,
    is_pr: bool = False,
    labels=(),
    state: str = "open",
    action: str = "created",
    comment_id: int = COMMENT_ID,
) -> dict:
    payload = copy.deepcopy(fixture_payload("issue_comment.created"))
    payload["action"] = action
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = user
    payload["comment"]["id"] = comment_id
    payload["comment"]["html_url"] = (
        f"https://github.com/{ORG}/{REPO}/issues/{number}#issuecomment-{comment_id}"
    )
    payload["sender"]["login"] = user
    payload["issue"]["number"] = number
    payload["issue"]["state"] = state
    payload["issue"]["labels"] = [{"name": name} for name in labels]
    if is_pr:
        payload["issue"]["pull_request"] = {
            "url": f"https://api.github.com/repos/{ORG}/{REPO}/pulls/{number}"
        }
    return payload


def deliver(post_webhook, kind: str, payload: dict, guid: str | None = None):
    """POST the webhook and handle it as the worker does; RetryLater
    propagates for tests that expect it."""
    response = post_webhook(kind, payload, guid=guid)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.latest("received_at")
    services.delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def handle_again(delivery):
    """Run every plugin over the delivery once more, as an admin's replay."""
    services.delivery_replay(delivery, rerun_all=True)
    services.delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def writes(fake_github) -> list:
    return [r for r in fake_github.requests() if r.method != "GET"]


def bodies(fake_github, number: int = 1) -> list[str]:
    return [c.body for c in fake_github.comments(ORG, REPO, number)]


@contextmanager
def fun_service(monkeypatch):
    """The services' double, with a short deadline for each call to it."""
    monkeypatch.setattr(images, "TIMEOUT", TIMEOUT)
    with ServiceDouble() as double:
        yield double
