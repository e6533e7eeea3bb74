"""help through /hook: `/help` and `/good-first-issue` label open issues and
reply with the guidelines; the removals take the labels off and the replies
back. Each command acts once, however often its comment is handled."""

import pytest

from hook.models import WebhookDelivery
from hook.plugins import help as help_plugin
from hook.services import RetryLater, delivery_dispatch
from prow.config.validation import validate
from tests.hook.plugins.community import (
    COMMENT_URL,
    bodies,
    comment_payload,
    deliver,
    handle_again,
    writes,
)
from tests.hook.plugins.conftest import ORG, REPO

pytestmark = pytest.mark.django_db

HELP, GOOD_FIRST = "help wanted", "good first issue"
LABELS = f"/repos/{ORG}/{REPO}/issues/1/labels"
COMMENTS = f"/repos/{ORG}/{REPO}/issues/1/comments"


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, clean_broker):
    plugins_enabled({f"{ORG}/{REPO}": ["help"]})
    fake_github.add_repo(ORG, REPO)


def command(post_webhook, body, *, labels=(), **kwargs):
    payload = comment_payload(body, labels=labels, **kwargs)
    return deliver(post_webhook, "issue_comment", payload)


def labels(fake_github, number=1) -> list[str]:
    return sorted(fake_github.issue(ORG, REPO, number).labels)


def bot_said(fake_github, marker) -> list[str]:
    return [b for b in bodies(fake_github) if marker in b]


@pytest.mark.parametrize(
    ("case", "body", "before", "after", "replies"),
    [
        ("help on an issue", "/help", [], [HELP], [help_plugin.HELP_MARKER]),
        ("help, labelled already", "/help", [HELP], [HELP], []),
        ("help, trailing space", "/help \r", [], [HELP], [help_plugin.HELP_MARKER]),
        ("remove help", "/remove-help", [HELP], [], []),
        ("remove help, no label", "/remove-help", [], [], []),
        ("remove help takes both", "/remove-help", [HELP, GOOD_FIRST], [], []),
        (
            "good first issue",
            "/good-first-issue",
            [],
            [GOOD_FIRST, HELP],
            [help_plugin.GOOD_FIRST_MARKER],
        ),
        (
            "good first issue, help there",
            "/good-first-issue",
            [HELP],
            [GOOD_FIRST, HELP],
            [help_plugin.GOOD_FIRST_MARKER],
        ),
        ("good first issue there", "/good-first-issue", [GOOD_FIRST], [GOOD_FIRST], []),
        (
            "remove good first issue",
            "/remove-good-first-issue",
            [GOOD_FIRST, HELP],
            [HELP],
            [],
        ),
        (
            "remove good first issue, none",
            "/remove-good-first-issue",
            [HELP],
            [HELP],
            [],
        ),
        ("not a command", "/helpful", [], [], []),
    ],
)
def test_commands_on_an_open_issue(
    case, body, before, after, replies, fake_github, post_webhook
):
    fake_github.add_issue(ORG, REPO, number=1, labels=before)
    command(post_webhook, body, labels=before)
    assert labels(fake_github) == sorted(after), case
    said = bodies(fake_github)
    assert len(said) == len(replies), case
    for text, marker in zip(said, replies, strict=True):
        assert text.startswith(f"@alice: \n\t{marker}\n\n"), case
        assert f"In response to [this]({COMMENT_URL})" in text


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("a pull request", {"is_pr": True}),
        ("a closed issue", {"state": "closed"}),
        ("an edited comment", {"action": "edited"}),
    ],
)
def test_commands_elsewhere_do_nothing(case, kwargs, fake_github, post_webhook):
    fake_github.add_issue(ORG, REPO, number=1)
    command(post_webhook, "/help", **kwargs)
    assert writes(fake_github) == [], case


def test_help_adds_the_label_then_replies(fake_github, post_webhook):
    fake_github.add_issue(ORG, REPO, number=1)
    command(post_webhook, "/help")
    label, reply = writes(fake_github)
    assert (label.method, label.path, label.body) == (
        "POST",
        LABELS,
        {"labels": [HELP]},
    )
    assert (reply.method, reply.path) == ("POST", COMMENTS)
    assert reply.body["body"].startswith(
        "@alice: \n\tThis request has been marked as needing help from a "
        "contributor.\n\nPlease ensure the request meets the requirements listed "
        "[here](https://git.k8s.io/community/contributors/guide/help-wanted.md).\n\n"
        "If this request no longer meets these requirements, the label can be "
        "removed\nby commenting with the `/remove-help` command.\n"
    )


def test_the_configured_guidelines_are_quoted(
    fake_github, post_webhook, plugins_enabled
):
    plugins_enabled(
        {f"{ORG}/{REPO}": ["help"]},
        "help:\n  help_guidelines_url: https://example.com/help\n"
        "  help_guidelines_summary: '- Be **clear**.'\n",
    )
    fake_github.add_issue(ORG, REPO, number=1)
    command(post_webhook, "/good-first-issue")
    (reply,) = bodies(fake_github)
    assert "### Guidelines\n- Be **clear**.\n\n" in reply
    assert "[here](https://example.com/help#good-first-issue)" in reply
    assert "`/remove-good-first-issue` command." in reply


def test_removals_prune_only_the_bots_matching_replies(fake_github, post_webhook):
    fake_github.add_issue(ORG, REPO, number=1, labels=[HELP, GOOD_FIRST])
    fake_github.add_comment(ORG, REPO, 1, "prow-bot", help_plugin.HELP_MARKER)
    fake_github.add_comment(ORG, REPO, 1, "prow-bot", help_plugin.GOOD_FIRST_MARKER)
    fake_github.add_comment(ORG, REPO, 1, "prow-bot", "Something else.")
    fake_github.add_comment(ORG, REPO, 1, "carol", help_plugin.HELP_MARKER)
    command(post_webhook, "/remove-good-first-issue", labels=[HELP, GOOD_FIRST])
    assert bot_said(fake_github, help_plugin.GOOD_FIRST_MARKER) == []
    assert len(bot_said(fake_github, help_plugin.HELP_MARKER)) == 2
    command(post_webhook, "/remove-help", labels=[HELP])
    assert bodies(fake_github) == ["Something else.", help_plugin.HELP_MARKER]
    assert labels(fake_github) == []


@pytest.mark.parametrize(
    ("body", "before"),
    [("/help", []), ("/good-first-issue", []), ("/remove-help", [HELP, GOOD_FIRST])],
)
def test_handling_the_same_comment_again_changes_nothing(
    body, before, fake_github, post_webhook
):
    fake_github.add_issue(ORG, REPO, number=1, labels=before)
    if before:
        fake_github.add_comment(ORG, REPO, 1, "prow-bot", help_plugin.HELP_MARKER)
    delivery = command(post_webhook, body, labels=before)
    after, said = labels(fake_github), bodies(fake_github)
    fake_github.clear_requests()
    handle_again(delivery)
    assert writes(fake_github) == [], "no label added or removed, no comment"
    assert (labels(fake_github), bodies(fake_github)) == (after, said)


@pytest.mark.parametrize(
    ("case", "body", "before", "failing", "after", "replies"),
    [
        ("the reply fails", "/help", [], ("POST", COMMENTS), [HELP], 1),
        ("the label fails", "/help", [], ("POST", LABELS), [HELP], 1),
        (
            "the second label fails",
            "/remove-help",
            [HELP, GOOD_FIRST],
            ("DELETE", f"{LABELS}/{GOOD_FIRST}"),
            [],
            0,
        ),
        (
            "the pruning fails",
            "/remove-help",
            [HELP],
            ("DELETE", f"/repos/{ORG}/{REPO}/issues/comments/"),
            [],
            0,
        ),
    ],
)
def test_a_github_error_mid_command_ends_with_it_done_once(
    case, body, before, failing, after, replies, fake_github, post_webhook
):
    fake_github.add_issue(ORG, REPO, number=1, labels=before)
    if before:
        fake_github.add_comment(ORG, REPO, 1, "prow-bot", help_plugin.HELP_MARKER)
    method, path = failing
    fake_github.fail_next(method, f"^{path}", status=502)
    with pytest.raises(RetryLater):
        command(post_webhook, body, labels=before)
    delivery = WebhookDelivery.objects.get()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "done", case
    assert labels(fake_github) == after, case
    assert len(bot_said(fake_github, "This request has been marked")) == replies, case


def test_a_rate_limit_mid_command_ends_with_it_done_once(fake_github, post_webhook):
    fake_github.add_issue(ORG, REPO, number=1)
    fake_github.rate_limit_next(retry_after=3600, path_regex=f"^{COMMENTS}$")
    with pytest.raises(RetryLater):
        command(post_webhook, "/good-first-issue")
    delivery_dispatch(WebhookDelivery.objects.get().pk)
    assert labels(fake_github) == [GOOD_FIRST, HELP]
    assert len(bodies(fake_github)) == 1


def test_the_section_takes_an_http_guidelines_address_only():
    result = validate("", "help:\n  help_guidelines_url: ftp://example.com/h\n")
    (error,) = result.errors
    assert (error.line, error.path) == (2, "help.help_guidelines_url")
