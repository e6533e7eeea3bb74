"""milestone through /hook: who may set it, unknown milestones, clearing,
and handling a comment twice or after a failure."""

import pytest

from hook.plugins.milestone import plugin
from hook.services import RetryLater
from prow.config.validation import validate
from tests.hook.plugins.commands_on import bot_comments, handle, items, writes
from tests.hook.plugins.conftest import ORG, REPO

pytestmark = pytest.mark.django_db

SECTIONS = f"""
repo_milestone:
  "":
    maintainers_team: default-leads
  {ORG}/{REPO}:
    maintainers_team: sig-leads
    maintainers_friendly_name: SIG Chairs
  {ORG}/by-id:
    maintainers_id: 4242
"""
NOT_ALLOWED = (
    f"You must be a member of the [{ORG}/sig-leads](https://github.com/orgs/{ORG}/"
    "teams/sig-leads/members) GitHub team to set the milestone. If you believe "
    "you should be able to issue the /milestone command, please contact your "
    "SIG Chairs and have them propose you as an additional delegate for this "
    "responsibility."
)
INVALID = (
    "The provided milestone is not valid for this repository. Milestones in this "
    "repository: [`v1.0`, `v1.1`, `v2.0-done`]\n\n"
    "Use `/milestone clear` to clear the milestone."
)


@pytest.fixture
def on_item(post_webhook, fake_github, clean_broker):
    return items(post_webhook, fake_github)


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, on_item):
    plugins_enabled({ORG: ["milestone"]}, SECTIONS)
    fake_github.add_team(ORG, "sig-leads", members=["sig-lead"])
    fake_github.add_team(ORG, "default-leads", members=["default-sig-lead"])
    fake_github.add_milestone(ORG, REPO, "v1.0")
    fake_github.add_milestone(ORG, REPO, "v1.1")
    fake_github.add_milestone(ORG, REPO, "v2.0-done", state="closed")


def milestone_of(fake_github, number=1, repo=REPO):
    issue = fake_github.issue(ORG, repo, number)
    found = fake_github.repo(ORG, repo).milestones.get(issue.milestone or 0)
    return found.title if found else None


CASES = [
    # (id, body, commenter, milestone before, milestone after, answer)
    ("lead-sets", "/milestone v1.0", "sig-lead", None, "v1.0", None),
    ("lead-unknown", "/milestone v3.0", "sig-lead", None, None, INVALID),
    ("lead-nonsense", "/milestone abc", "sig-lead", "v1.1", "v1.1", INVALID),
    ("follower-may-not", "/milestone v1.0", "sig-follow", None, None, NOT_ALLOWED),
    ("lead-clears", "/milestone clear", "sig-lead", "v1.0", None, None),
    (
        "follower-may-not-clear",
        "/milestone clear",
        "sig-follow",
        "v1.1",
        "v1.1",
        NOT_ALLOWED,
    ),
    (
        "multiline",
        "Foo\n/milestone v1.0\r\n/priority critical-urgent",
        "sig-lead",
        "v1.1",
        "v1.0",
        None,
    ),
    (
        "closed-milestones-count",
        "/milestone v2.0-done",
        "sig-lead",
        None,
        "v2.0-done",
        None,
    ),
    (
        "repo-team-wins-over-default",
        "/milestone v1.0",
        "default-sig-lead",
        "v1.1",
        "v1.1",
        NOT_ALLOWED,
    ),
    (
        "first-command-decides",
        "/milestone v1.1\n/milestone v1.0",
        "sig-lead",
        None,
        "v1.1",
        None,
    ),
    ("not-at-line-start", "see /milestone v1.0", "sig-lead", None, None, None),
]


@pytest.mark.parametrize(
    ("body", "user", "before", "after", "answer"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_milestone(fake_github, on_item, body, user, before, after, answer):
    item = on_item()
    if before:
        titles = {m.title: n for n, m in fake_github.repo(ORG, REPO).milestones.items()}
        fake_github.issue(ORG, REPO, 1).milestone = titles[before]
    delivery = item.comment(body, user=user)
    assert delivery.plugin_results == {"milestone:generic_comment": "ok"}
    assert milestone_of(fake_github) == after
    replies = bot_comments(fake_github, 1)
    if answer is None:
        assert replies == []
    else:
        (reply,) = replies
        assert reply.startswith(f"@{user}: {answer}\n\n<details>")


def test_without_a_maintainers_team_nothing_happens(
    fake_github, on_item, plugins_enabled
):
    plugins_enabled({ORG: ["milestone"]})
    item = on_item()
    fake_github.clear_requests()
    delivery = item.comment("/milestone v1.0", user="sig-lead")
    assert delivery.plugin_results == {"milestone:generic_comment": "ok"}
    assert writes(fake_github) == []


def test_the_exact_request(fake_github, on_item):
    item = on_item()
    fake_github.clear_requests()
    item.comment("/milestone v1.1", user="sig-lead")
    (patch,) = writes(fake_github)
    assert (patch.method, patch.path, patch.body) == (
        "PATCH",
        f"/repos/{ORG}/{REPO}/issues/1",
        {"milestone": 2},
    )


def test_the_default_team_serves_other_repos(fake_github, on_item):
    fake_github.add_repo(ORG, "other")
    fake_github.add_milestone(ORG, "other", "v9")
    fake_github.add_issue(ORG, "other", number=1)
    delivery = _comment_in(on_item(), "other", "/milestone v9", "default-sig-lead")
    assert delivery.plugin_results == {"milestone:generic_comment": "ok"}
    assert milestone_of(fake_github, repo="other") == "v9"


def test_a_team_named_by_id(fake_github, on_item):
    fake_github.add_team(ORG, "by-id-team", id=4242, members=["id-lead"])
    fake_github.add_repo(ORG, "by-id")
    fake_github.add_milestone(ORG, "by-id", "v1")
    fake_github.add_issue(ORG, "by-id", number=1)
    item = on_item()
    _comment_in(item, "by-id", "/milestone v1", "default-sig-lead")
    assert milestone_of(fake_github, repo="by-id") is None
    _comment_in(item, "by-id", "/milestone v1", "id-lead")
    assert milestone_of(fake_github, repo="by-id") == "v1"


def _comment_in(item, repo, body, user):
    """item's comment, delivered as if written in another repository."""
    original_post = item.post

    def post(event, payload):
        payload["repository"]["name"] = repo
        payload["repository"]["full_name"] = f"{ORG}/{repo}"
        return original_post(event, payload)

    item.post = post
    try:
        return item.comment(body, user=user)
    finally:
        item.post = original_post


def test_a_second_handling_changes_nothing(fake_github, on_item):
    item = on_item()
    first = item.comment("/milestone v1.0", user="sig-follow")
    second = item.comment("/milestone v1.0", user="sig-lead")
    assert milestone_of(fake_github) == "v1.0"
    for delivery in (first, second):
        delivery.plugin_results = {}
        delivery.status = delivery.Status.PENDING
        delivery.save()
    fake_github.clear_requests()
    handle(first)
    handle(second)
    assert writes(fake_github) == []
    assert len(bot_comments(fake_github, 1)) == 1


@pytest.mark.parametrize(
    ("body", "failing"),
    [
        ("/milestone v1.0", ("PATCH", r"/issues/1$")),
        ("/milestone v7", ("POST", r"/comments$")),
        ("/milestone v1.0", "membership"),
    ],
)
def test_a_github_error_mid_command_is_retried_to_done_once(
    fake_github, on_item, body, failing
):
    item = on_item()
    if failing == "membership":
        # Reads are retried in process; a long rate limit is not.
        fake_github.rate_limit_next(retry_after=600, path_regex="/memberships/")
    else:
        fake_github.fail_next(*failing, status=502)
    delivery = item.comment(body, user="sig-lead", handled=False)
    with pytest.raises(RetryLater):
        handle(delivery)
    delivery = handle(delivery)
    assert delivery.status == delivery.Status.DONE
    if body == "/milestone v7":
        assert milestone_of(fake_github) is None
        assert len(bot_comments(fake_github, 1)) == 1
    else:
        assert milestone_of(fake_github) == "v1.0"
        assert len(fake_github.requests("PATCH")) <= 2
        assert bot_comments(fake_github, 1) == []


def test_the_section_is_checked_with_lines():
    result = validate(
        "",
        'repo_milestone:\n  "":\n    maintainers_friendly_name: x\n'
        "  o/r:\n    maintainers_id: -1\n",
    )
    assert [(e.path, e.line) for e in result.errors] == [
        ('repo_milestone["o/r"].maintainers_id', 5)
    ]
    assert ('repo_milestone[""]', 2) in [(w.path, w.line) for w in result.warnings]


def test_the_section_has_the_originals_defaults():
    section = validate("", "").plugins.section("repo_milestone", "o", "r")
    assert section.maintainers_friendly_name == "SIG Chairs/TLs"
    assert (section.maintainers_id, section.maintainers_team) == (0, "")


def test_help():
    (command,) = plugin.commands
    assert command.usage == "/milestone <version> or /milestone clear"
