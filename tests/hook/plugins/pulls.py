"""Webhooks about one pull request, delivered through /hook and handled as
the worker would; shared by the tests of the pull request plugins."""

import copy

from hook.models import WebhookDelivery
from hook.services import RetryLater, delivery_dispatch
from tests.webhooks import fixture_payload

ORG, REPO, PR = "acme", "app", 7
HEAD = "a" * 40
BASE = "b" * 40
AUTHOR = "alice"


def _at_repo(payload: dict) -> dict:
    payload["repository"]["full_name"] = f"{ORG}/{REPO}"
    payload["repository"]["name"] = REPO
    payload["repository"]["owner"]["login"] = ORG
    return payload


def pr_event(
    action: str,
    *,
    title: str = "Make it faster",
    draft: bool = False,
    labels=(),
    base_ref: str = "main",
    state: str = "open",
    **extra,
) -> dict:
    payload = _at_repo(copy.deepcopy(fixture_payload("pull_request.opened")))
    payload["action"] = action
    payload["number"] = PR
    pr = payload["pull_request"]
    pr.update(
        number=PR,
        title=title,
        draft=draft,
        state=state,
        labels=[{"name": name} for name in labels],
    )
    pr["user"]["login"] = AUTHOR
    pr["head"].update(sha=HEAD, ref="faster")
    pr["base"].update(ref=base_ref, sha=BASE)
    payload["sender"]["login"] = AUTHOR
    payload.update(extra)
    return payload


def comment_event(
    body: str,
    *,
    user: str = "bob",
    labels=(),
    is_pr: bool = True,
    action: str = "created",
    state: str = "open",
) -> dict:
    payload = _at_repo(copy.deepcopy(fixture_payload("issue_comment.created")))
    payload["action"] = action
    issue = payload["issue"]
    issue.update(number=PR, state=state, labels=[{"name": name} for name in labels])
    if is_pr:
        issue["pull_request"] = {
            "url": f"https://api.github.com/repos/{ORG}/{REPO}/pulls/{PR}"
        }
    else:
        issue.pop("pull_request", None)
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = user
    payload["sender"]["login"] = user
    return payload


def post(post_webhook, kind: str, payload: dict, guid: str | None = None) -> int:
    """Post the webhook; the id of its delivery."""
    response = post_webhook(kind, payload, guid=guid)
    assert response.status_code == 200
    return WebhookDelivery.objects.order_by("-pk").first().pk


def handle(delivery_id: int) -> WebhookDelivery:
    delivery_dispatch(delivery_id)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.last_error
    return delivery


def deliver(post_webhook, kind: str, payload: dict, guid: str | None = None):
    return handle(post(post_webhook, kind, payload, guid))


def handle_failing(delivery_id: int) -> RetryLater:
    """Handle a delivery that must fail for now and be retried later."""
    try:
        delivery_dispatch(delivery_id)
    except RetryLater as exc:
        return exc
    raise AssertionError("the delivery was expected to ask for a retry")


def writes(fake) -> list[tuple[str, str, object]]:
    """What was asked of GitHub apart from reads: (method, path, body)."""
    return [
        (r.method, r.path, r.body)
        for r in fake.requests()
        if r.method != "GET" and r.status is not None and r.status < 400
    ]


def labels(fake) -> list[str]:
    return sorted(fake.issue(ORG, REPO, PR).labels)


def comments(fake) -> list[str]:
    return [c.body for c in fake.comments(ORG, REPO, PR)]
