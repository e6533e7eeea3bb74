"""lifecycle through /hook: lifecycle labels, /close (also as not planned)
and /reopen with the original's rules and answers, handling a comment twice
or after a failure."""

import pytest

from hook.plugins.lifecycle import plugin
from hook.services import RetryLater
from tests.hook.plugins.commands_on import bot_comments, handle, items, writes
from tests.hook.plugins.conftest import ORG, REPO

pytestmark = pytest.mark.django_db

AUTHOR, COLLABORATOR, STRANGER = "Codertocat", "collab", "stranger"
CANT_CLOSE = (
    "You can't close an active issue/PR unless you authored it or you are a "
    "collaborator."
)
CANT_REOPEN = (
    "You can't reopen an issue/PR unless you authored it or you are a collaborator."
)


@pytest.fixture
def on_item(post_webhook, fake_github, clean_broker):
    return items(post_webhook, fake_github)


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, on_item):
    plugins_enabled({f"{ORG}/{REPO}": ["lifecycle"]})
    fake_github.add_collaborator(ORG, REPO, COLLABORATOR)
    fake_github.add_user(STRANGER)


LABEL_CASES = [
    # (id, body, is_pr, labels before, labels after, answer)
    ("unrelated", "uh oh", False, [], [], None),
    ("frozen-issue", "/lifecycle frozen", False, [], ["lifecycle/frozen"], None),
    (
        "frozen-pr",
        "/lifecycle frozen",
        True,
        [],
        [],
        "The `lifecycle/frozen` label cannot be applied to Pull Requests.",
    ),
    ("stale-pr", "/lifecycle stale", True, [], ["lifecycle/stale"], None),
    (
        "replaces-the-others",
        "/lifecycle rotten",
        False,
        ["lifecycle/stale", "lifecycle/frozen", "bug"],
        ["bug", "lifecycle/rotten"],
        None,
    ),
    (
        "already-there",
        "/lifecycle stale",
        False,
        ["lifecycle/stale", "lifecycle/active"],
        ["lifecycle/active", "lifecycle/stale"],
        None,
    ),
    ("remove", "/remove-lifecycle stale", False, ["lifecycle/stale"], [], None),
    ("remove-absent", "/remove-lifecycle stale", False, [], [], None),
    (
        "remove-frozen-pr",
        "/remove-lifecycle frozen",
        True,
        ["lifecycle/frozen"],
        [],
        None,
    ),
    ("case-insensitive", "/Lifecycle Active", False, [], ["lifecycle/active"], None),
    ("unknown-stage", "/lifecycle dormant", False, [], [], None),
]


@pytest.mark.parametrize(
    ("body", "is_pr", "before", "after", "answer"),
    [pytest.param(*case[1:], id=case[0]) for case in LABEL_CASES],
)
def test_lifecycle_labels(fake_github, on_item, body, is_pr, before, after, answer):
    item = on_item(pr=is_pr, number=3, labels=before)
    delivery = item.comment(body, user=STRANGER)
    assert delivery.plugin_results == {"lifecycle:generic_comment": "ok"}
    assert sorted(fake_github.issue(ORG, REPO, 3).labels) == after
    replies = bot_comments(fake_github, 3)
    assert replies == ([] if answer is None else replies[:1])
    if answer:
        assert replies[0].startswith(f"@{STRANGER}: {answer}\n\n<details>")


CLOSE_CASES = [
    # (id, body, is_pr, commenter, labels, state after, state_reason, answer)
    (
        "author-closes-issue",
        "/close",
        False,
        AUTHOR,
        [],
        "closed",
        "completed",
        "Closing this issue.",
    ),
    (
        "collaborator-closes-pr",
        "/close",
        True,
        COLLABORATOR,
        [],
        "closed",
        None,
        "Closed this PR.",
    ),
    ("stranger-may-not", "/close", False, STRANGER, [], "open", None, CANT_CLOSE),
    (
        "stranger-may-close-stale",
        "/close",
        False,
        STRANGER,
        ["lifecycle/stale"],
        "closed",
        "completed",
        "Closing this issue.",
    ),
    (
        "stranger-may-close-rotten",
        "/close",
        True,
        STRANGER,
        ["lifecycle/rotten"],
        "closed",
        None,
        "Closed this PR.",
    ),
    (
        "stranger-frozen-is-active",
        "/close",
        False,
        STRANGER,
        ["lifecycle/frozen"],
        "open",
        None,
        CANT_CLOSE,
    ),
    (
        "not-planned",
        "/close not-planned",
        False,
        AUTHOR,
        [],
        "closed",
        "not_planned",
        'Closing this issue, marking it as "Not Planned".',
    ),
    (
        "not-planned-pr",
        "/close not-planned",
        True,
        AUTHOR,
        [],
        "open",
        None,
        "PRs cannot be closed as Not Planned.",
    ),
    (
        "case-insensitive",
        "/CLOSE",
        False,
        AUTHOR,
        [],
        "closed",
        "completed",
        "Closing this issue.",
    ),
    ("trailing-words", "/close please", False, AUTHOR, [], "open", None, None),
    ("reopen-on-open-does-nothing", "/reopen", False, AUTHOR, [], "open", None, None),
]


@pytest.mark.parametrize(
    ("body", "is_pr", "user", "labels", "state", "reason", "answer"),
    [pytest.param(*case[1:], id=case[0]) for case in CLOSE_CASES],
)
def test_close(fake_github, on_item, body, is_pr, user, labels, state, reason, answer):
    item = on_item(pr=is_pr, number=3, labels=labels)
    item.comment(body, user=user)
    issue = fake_github.issue(ORG, REPO, 3)
    assert (issue.state, issue.state_reason) == (state, reason)
    replies = bot_comments(fake_github, 3)
    if answer is None:
        assert replies == []
    else:
        (reply,) = replies
        assert reply.startswith(f"@{user}: {answer}\n\n<details>")


def test_close_not_planned_sends_the_reason(fake_github, on_item):
    item = on_item(number=3)
    fake_github.clear_requests()
    item.comment("/close not-planned", user=AUTHOR)
    (patch,) = fake_github.requests("PATCH")
    assert patch.path == f"/repos/{ORG}/{REPO}/issues/3"
    assert patch.body == {"state": "closed", "state_reason": "not_planned"}


REOPEN_CASES = [
    # (id, is_pr, commenter, state after, answer)
    ("author-issue", False, AUTHOR, "open", "Reopened this issue."),
    ("collaborator-pr", True, COLLABORATOR, "open", "Reopened this PR."),
    ("stranger", False, STRANGER, "closed", CANT_REOPEN),
]


@pytest.mark.parametrize(
    ("is_pr", "user", "state", "answer"),
    [pytest.param(*case[1:], id=case[0]) for case in REOPEN_CASES],
)
def test_reopen(fake_github, on_item, is_pr, user, state, answer):
    item = on_item(pr=is_pr, number=3, state="closed")
    item.comment("/reopen", user=user)
    assert fake_github.issue(ORG, REPO, 3).state == state
    (reply,) = bot_comments(fake_github, 3)
    assert reply.startswith(f"@{user}: {answer}\n\n<details>")


def test_a_merged_pull_request_cannot_be_reopened(fake_github, on_item):
    item = on_item(pr=True, number=3, state="closed")
    fake_github.pull(ORG, REPO, 3).merged = True
    item.comment("/reopen", user=AUTHOR)
    (reply,) = bot_comments(fake_github, 3)
    assert reply.startswith(
        f"@{AUTHOR}: Failed to re-open PR: Cannot reopen a merged pull request\n"
    )


def test_close_on_a_closed_item_does_nothing(fake_github, on_item):
    item = on_item(number=3, state="closed")
    fake_github.clear_requests()
    item.comment("/close", user=AUTHOR)
    assert writes(fake_github) == []


def test_commands_in_a_new_issue_description_count(fake_github, on_item):
    item = on_item(number=3)
    item.opened("/lifecycle frozen")
    assert fake_github.issue(ORG, REPO, 3).labels == ["lifecycle/frozen"]


def test_a_second_handling_changes_nothing(fake_github, on_item):
    item = on_item(number=3, labels=["lifecycle/stale"])
    first = item.comment("/lifecycle frozen\n/close", user=STRANGER)
    issue = fake_github.issue(ORG, REPO, 3)
    assert (issue.state, issue.labels) == ("closed", ["lifecycle/frozen"])
    assert len(bot_comments(fake_github, 3)) == 1
    first.plugin_results = {}
    first.status = first.Status.PENDING
    first.save()
    fake_github.clear_requests()
    handle(first)
    assert (issue.state, issue.labels) == ("closed", ["lifecycle/frozen"])
    assert len(bot_comments(fake_github, 3)) == 1
    # The frozen label is not taken off and put back.
    assert not any("frozen" in r.path for r in fake_github.requests("DELETE"))


@pytest.mark.parametrize("failing", [("PATCH", r"/issues/3$"), ("POST", "comments$")])
def test_a_github_error_mid_command_is_retried_to_done_once(
    fake_github, on_item, failing
):
    item = on_item(number=3)
    fake_github.fail_next(*failing, status=502)
    delivery = item.comment("/close not-planned", user=AUTHOR, handled=False)
    with pytest.raises(RetryLater):
        handle(delivery)
    delivery = handle(delivery)
    assert delivery.status == delivery.Status.DONE
    issue = fake_github.issue(ORG, REPO, 3)
    assert (issue.state, issue.state_reason) == ("closed", "not_planned")
    (reply,) = bot_comments(fake_github, 3)
    assert 'marking it as "Not Planned"' in reply


def test_a_rate_limit_mid_reopen_is_retried_to_done_once(fake_github, on_item):
    item = on_item(number=3, state="closed")
    fake_github.rate_limit_next(retry_after=600, path_regex=r"/issues/3$")
    delivery = item.comment("/reopen", user=COLLABORATOR, handled=False)
    with pytest.raises(RetryLater):
        handle(delivery)
    assert fake_github.issue(ORG, REPO, 3).state == "closed"
    handle(delivery)
    assert fake_github.issue(ORG, REPO, 3).state == "open"
    assert len(bot_comments(fake_github, 3)) == 1


def test_help():
    assert [c.usage for c in plugin.commands] == [
        "/close [not-planned]",
        "/reopen",
        "/[remove-]lifecycle <active|frozen|stale|rotten>",
    ]
