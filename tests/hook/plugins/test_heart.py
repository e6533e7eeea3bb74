"""heart through /hook: adorees' matching comments on pull requests, and
pull requests adding to OWNERS files, get one reaction."""

import copy

import pytest

from hook.models import WebhookDelivery
from hook.plugins import heart
from hook.services import RetryLater, delivery_dispatch
from prow.config.validation import validate
from tests.hook.plugins.community import comment_payload, deliver, handle_again, writes
from tests.hook.plugins.conftest import ORG, REPO
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

HEART = 'heart:\n  adorees: [alice, Bob]\n  commentregexp: "(?i)\\\\blgtm\\\\b"\n'
SHA = "b" * 40


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, clean_broker):
    plugins_enabled({f"{ORG}/{REPO}": ["heart"]}, HEART)
    fake_github.add_repo(ORG, REPO)
    fake_github.add_pull(ORG, REPO, 2, author="carol", head_sha=SHA)
    fake_github.add_issue(ORG, REPO, number=3)


def on_pull(fake_github, user, body):
    posted = fake_github.add_comment(ORG, REPO, 2, user, body)
    return posted, comment_payload(
        body, user=user, number=2, is_pr=True, comment_id=posted.id
    )


def reactions_path(comment_id: int) -> str:
    return f"/repos/{ORG}/{REPO}/issues/comments/{comment_id}/reactions"


@pytest.mark.parametrize(
    ("case", "user", "body", "action", "reacts"),
    [
        ("an adoree's matching comment", "alice", "/lgtm", "created", True),
        ("logins match in any case", "bob", "LGTM!", "created", True),
        ("not an adoree", "mallory", "lgtm", "created", False),
        ("an adoree, not matching", "alice", "looks fine", "created", False),
        ("an edited comment", "alice", "lgtm", "edited", False),
    ],
)
def test_which_comments_get_a_reaction(
    case, user, body, action, reacts, fake_github, post_webhook
):
    posted, payload = on_pull(fake_github, user, body)
    payload["action"] = action
    deliver(post_webhook, "issue_comment", payload)
    if not reacts:
        assert writes(fake_github) == [], case
        return
    (request,) = writes(fake_github)
    assert (request.method, request.path) == ("POST", reactions_path(posted.id))
    assert request.body == {"content": heart.reaction_for(posted.id)}
    assert request.body["content"] in ("+1", "heart", "hooray")


def test_comments_on_issues_get_no_reaction(fake_github, post_webhook):
    posted = fake_github.add_comment(ORG, REPO, 3, "alice", "lgtm")
    payload = comment_payload("lgtm", number=3, comment_id=posted.id)
    deliver(post_webhook, "issue_comment", payload)
    assert writes(fake_github) == []


@pytest.mark.parametrize(
    "section",
    ["heart:\n  adorees: [alice]\n", "heart:\n  commentregexp: .*\n", ""],
)
def test_without_adorees_or_a_regexp_nothing_is_adored(
    section, fake_github, post_webhook, plugins_enabled
):
    plugins_enabled({f"{ORG}/{REPO}": ["heart"]}, section)
    _, payload = on_pull(fake_github, "alice", "lgtm")
    deliver(post_webhook, "issue_comment", payload)
    assert writes(fake_github) == []


def test_the_reaction_is_the_same_each_time_and_left_once(fake_github, post_webhook):
    posted, payload = on_pull(fake_github, "alice", "lgtm")
    delivery = deliver(post_webhook, "issue_comment", payload)
    handle_again(delivery)
    handle_again(delivery)
    contents = {r.body["content"] for r in fake_github.requests("POST")}
    assert contents == {heart.reaction_for(posted.id)}
    (reaction,) = posted.reactions
    assert reaction.user == "prow-bot"


def test_a_github_error_on_the_reaction_is_retried(fake_github, post_webhook):
    posted, payload = on_pull(fake_github, "alice", "lgtm")
    fake_github.fail_next("POST", f"^{reactions_path(posted.id)}$", status=502)
    with pytest.raises(RetryLater):
        deliver(post_webhook, "issue_comment", payload)
    assert posted.reactions == []
    delivery = WebhookDelivery.objects.get()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "done"
    assert len(posted.reactions) == 1


def opened(number: int, action: str = "opened") -> dict:
    payload = copy.deepcopy(fixture_payload("pull_request.opened"))
    payload["action"] = action
    payload["number"] = number
    payload["pull_request"]["number"] = number
    payload["pull_request"]["body"] = ""
    return payload


@pytest.mark.parametrize(
    ("case", "files", "action", "reacts"),
    [
        ("a new OWNERS file", [{"filename": "OWNERS", "additions": 5}], "opened", True),
        (
            "OWNERS_ALIASES grows",
            [{"filename": "OWNERS_ALIASES", "additions": 1}],
            "opened",
            True,
        ),
        (
            "a nested OWNERS file",
            [
                {"filename": "README.md", "additions": 3},
                {"filename": "pkg/a/OWNERS", "additions": 2},
            ],
            "opened",
            True,
        ),
        (
            "OWNERS only loses lines",
            [{"filename": "OWNERS", "additions": 0, "deletions": 2}],
            "opened",
            False,
        ),
        (
            "no OWNERS file",
            [{"filename": "OWNERS.md", "additions": 9}],
            "opened",
            False,
        ),
        (
            "not a new pull request",
            [{"filename": "OWNERS", "additions": 5}],
            "synchronize",
            False,
        ),
    ],
)
def test_which_pull_requests_get_a_reaction(
    case, files, action, reacts, fake_github, post_webhook
):
    fake_github.add_pull(ORG, REPO, 7, author="carol", head_sha=SHA, files=files)
    deliver(post_webhook, "pull_request", opened(7, action))
    if not reacts:
        assert writes(fake_github) == [], case
        return
    (request,) = writes(fake_github)
    assert (request.method, request.path) == (
        "POST",
        f"/repos/{ORG}/{REPO}/issues/7/reactions",
    )
    assert request.body == {"content": heart.reaction_for(7)}


def test_the_owners_section_names_the_files(fake_github, post_webhook, plugins_enabled):
    plugins_enabled(
        {f"{ORG}/{REPO}": ["heart"]},
        f"owners:\n  filenames:\n    {ORG}/{REPO}:\n      owners: MAINTAINERS\n",
    )
    files = [{"filename": "OWNERS", "additions": 5}]
    fake_github.add_pull(ORG, REPO, 7, author="carol", head_sha=SHA, files=files)
    files = [{"filename": "docs/MAINTAINERS", "additions": 1}]
    fake_github.add_pull(ORG, REPO, 8, author="carol", head_sha=SHA, files=files)
    deliver(post_webhook, "pull_request", opened(7))
    deliver(post_webhook, "pull_request", opened(8))
    assert [r.path for r in writes(fake_github)] == [
        f"/repos/{ORG}/{REPO}/issues/8/reactions"
    ]


def test_the_section_refuses_a_bad_regexp_with_its_line():
    result = validate("", "heart:\n  adorees: [alice]\n  commentregexp: '(lgtm'\n")
    (error,) = result.errors
    assert (error.line, error.path) == (3, "heart.commentregexp")
