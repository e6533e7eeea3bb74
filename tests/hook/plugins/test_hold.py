"""hold through /hook: /hold and its cancels put `do-not-merge/hold` on a
pull request and take it off, and say nothing."""

import pytest

from tests.hook.plugins.pulls import (
    ORG,
    PR,
    REPO,
    comment_event,
    comments,
    deliver,
    handle,
    handle_failing,
    labels,
    post,
    pr_event,
    writes,
)

pytestmark = pytest.mark.django_db

HOLD = "do-not-merge/hold"
ADD = ("POST", f"/repos/{ORG}/{REPO}/issues/{PR}/labels", {"labels": [HOLD]})
REMOVE = ("DELETE", f"/repos/{ORG}/{REPO}/issues/{PR}/labels/{HOLD}", None)


@pytest.fixture(autouse=True)
def github(fake_github, plugins_enabled, clean_broker):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_label(ORG, REPO, HOLD)
    plugins_enabled({f"{ORG}/{REPO}": ["hold"]})
    return fake_github


def on_pull(fake, held: bool) -> None:
    fake.add_pull(ORG, REPO, PR, "alice", "a" * 40, labels=[HOLD] if held else [])
    fake.clear_requests()


# The original's cases: (comment, held before, what GitHub is asked).
CASES = [
    ("noise", False, []),
    ("> /hold", False, []),
    ("/hold", False, [ADD]),
    ("/hold for further review", False, [ADD]),
    ("/hold", True, []),
    ("/hold for further review", True, []),
    ("/hold cancel", True, [REMOVE]),
    (
        "/hold   cancel  further review has happened and I have whitespace",
        True,
        [REMOVE],
    ),
    ("/hold cancel", False, []),
    ("/unhold", True, [REMOVE]),
    ("/unhold   further review has happened and I have whitespace", True, [REMOVE]),
    ("/unhold", False, []),
    ("/remove-hold", True, [REMOVE]),
    ("/remove -    hold", False, []),
    ("/removehold", False, []),
    ("/HOLD", False, [ADD]),
    # A cancel anywhere in the comment wins over a /hold elsewhere in it.
    ("/hold\n/hold cancel", True, [REMOVE]),
    ("/hold cancel\n/hold", False, []),
    # Commands in code blocks are examples, not requests.
    ("```\n/hold\n```", False, []),
]


@pytest.mark.parametrize(("body", "held", "expected"), CASES)
def test_hold_comments_on_pull_requests(post_webhook, github, body, held, expected):
    on_pull(github, held)
    delivery = deliver(
        post_webhook,
        "issue_comment",
        comment_event(body, labels=[HOLD] if held else []),
    )
    assert delivery.plugin_results == {"hold:generic_comment": "ok"}
    assert writes(github) == expected
    held_now = (held or ADD in expected) and REMOVE not in expected
    assert labels(github) == ([HOLD] if held_now else [])
    assert comments(github) == []


@pytest.mark.parametrize(("body", "held"), [("/hold", False), ("/unhold", True)])
def test_issues_are_left_alone(post_webhook, github, body, held):
    github.add_issue(ORG, REPO, PR, labels=[HOLD] if held else [])
    github.clear_requests()
    deliver(
        post_webhook,
        "issue_comment",
        comment_event(body, is_pr=False, labels=[HOLD] if held else []),
    )
    assert writes(github) == []


def test_edited_comments_are_not_commands(post_webhook, github):
    on_pull(github, held=False)
    deliver(post_webhook, "issue_comment", comment_event("/hold", action="edited"))
    assert writes(github) == []


def test_a_hold_in_a_new_pull_requests_description_counts(post_webhook, github):
    on_pull(github, held=False)
    payload = pr_event("opened")
    payload["pull_request"]["body"] = "Not yet.\n/hold\n"
    deliver(post_webhook, "pull_request", payload)
    assert writes(github) == [ADD]


def test_a_redelivery_changes_nothing(post_webhook, github):
    on_pull(github, held=False)
    payload = comment_event("/hold")
    deliver(post_webhook, "issue_comment", payload, guid="hold-1")
    assert writes(github) == [ADD]
    github.clear_requests()
    # GitHub's "Redeliver" sends the same GUID again.
    deliver(post_webhook, "issue_comment", payload, guid="hold-1")
    # A second /hold once the label is there.
    deliver(post_webhook, "issue_comment", comment_event("/hold", labels=[HOLD]))
    assert writes(github) == []
    assert labels(github) == [HOLD]


@pytest.mark.parametrize(
    ("body", "held", "method", "expected"),
    [("/hold", False, "POST", ADD), ("/hold cancel", True, "DELETE", REMOVE)],
)
def test_a_github_error_is_retried_and_done_once(
    post_webhook, github, body, held, method, expected
):
    on_pull(github, held)
    github.fail_next(method, r"/labels", status=502)
    delivery_id = post(
        post_webhook,
        "issue_comment",
        comment_event(body, labels=[HOLD] if held else []),
    )
    handle_failing(delivery_id)
    assert writes(github) == []
    handle(delivery_id)
    assert writes(github) == [expected]
    assert labels(github) == ([] if held else [HOLD])
