"""wip through /hook: `do-not-merge/work-in-progress` is on a pull request
exactly while it is a draft or its title starts with WIP."""

import pytest

from tests.hook.plugins.pulls import (
    ORG,
    PR,
    REPO,
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

WIP = "do-not-merge/work-in-progress"
ADD = ("POST", f"/repos/{ORG}/{REPO}/issues/{PR}/labels", {"labels": [WIP]})
REMOVE = ("DELETE", f"/repos/{ORG}/{REPO}/issues/{PR}/labels/{WIP}", None)


@pytest.fixture(autouse=True)
def github(fake_github, plugins_enabled, clean_broker):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_label(ORG, REPO, WIP)
    plugins_enabled({f"{ORG}/{REPO}": ["wip"]})
    return fake_github


def on_pull(fake, title: str, draft: bool, labelled: bool) -> None:
    fake.add_pull(
        ORG,
        REPO,
        PR,
        "alice",
        "a" * 40,
        title=title,
        draft=draft,
        labels=[WIP] if labelled else [],
    )
    fake.clear_requests()


# (title, draft, labelled before, what GitHub is asked, labelled after)
CASES = [
    ("WIP: add the thing", False, False, [ADD], True),
    ("[WIP] add the thing", False, False, [ADD], True),
    ("wip add the thing", False, False, [ADD], True),
    ("(Wip) add the thing", False, False, [ADD], True),
    ("WIP: add the thing", False, True, [], True),
    ("WIPE the floor", False, False, [], False),
    ("Add the WIP thing", False, False, [], False),
    ("Add the thing", False, False, [], False),
    ("Add the thing", False, True, [REMOVE], False),
    ("WIPE the floor", False, True, [REMOVE], False),
    ("Add the thing", True, False, [ADD], True),
    ("Add the thing", True, True, [], True),
    ("WIP: add the thing", True, True, [], True),
]


@pytest.mark.parametrize(("title", "draft", "labelled", "expected", "after"), CASES)
@pytest.mark.parametrize(
    "action",
    ["opened", "reopened", "edited", "ready_for_review", "converted_to_draft"],
)
def test_the_label_follows_title_and_draft(
    post_webhook, github, action, title, draft, labelled, expected, after
):
    on_pull(github, title, draft, labelled)
    payload = pr_event(
        action, title=title, draft=draft, labels=[WIP] if labelled else []
    )
    delivery = deliver(post_webhook, "pull_request", payload)
    assert delivery.plugin_results == {"wip:pull_request": "ok"}
    assert writes(github) == expected
    assert labels(github) == ([WIP] if after else [])
    assert comments(github) == []


@pytest.mark.parametrize("action", ["synchronize", "labeled", "closed", "assigned"])
def test_other_actions_are_ignored(post_webhook, github, action):
    on_pull(github, "WIP: add the thing", False, False)
    deliver(post_webhook, "pull_request", pr_event(action, title="WIP: add the thing"))
    assert writes(github) == []


def test_a_title_edited_back_and_forth(post_webhook, github):
    on_pull(github, "WIP: add the thing", False, False)
    deliver(
        post_webhook, "pull_request", pr_event("opened", title="WIP: add the thing")
    )
    deliver(
        post_webhook,
        "pull_request",
        pr_event("edited", title="Add the thing", labels=[WIP]),
    )
    assert writes(github) == [ADD, REMOVE]
    assert labels(github) == []


def test_a_redelivery_changes_nothing(post_webhook, github):
    on_pull(github, "WIP: add the thing", False, False)
    payload = pr_event("opened", title="WIP: add the thing")
    deliver(post_webhook, "pull_request", payload, guid="wip-1")
    github.clear_requests()
    deliver(post_webhook, "pull_request", payload, guid="wip-1")
    # The next event carries the label the first one added.
    deliver(
        post_webhook,
        "pull_request",
        pr_event("edited", title="WIP: add the thing, now faster", labels=[WIP]),
    )
    assert writes(github) == []
    assert labels(github) == [WIP]


def test_a_github_error_is_retried_and_done_once(post_webhook, github):
    on_pull(github, "[WIP] add the thing", False, False)
    github.fail_next("POST", r"/labels$", status=502)
    delivery_id = post(
        post_webhook, "pull_request", pr_event("opened", title="[WIP] add the thing")
    )
    handle_failing(delivery_id)
    assert labels(github) == []
    handle(delivery_id)
    assert writes(github) == [ADD]
    assert labels(github) == [WIP]
