"""milestonestatus through /hook: /status labels for the milestone
maintainers, the original's refusal, and handling a comment twice or after
a failure."""

import pytest

from hook.plugins.milestone import SECTION
from hook.plugins.milestonestatus import plugin
from hook.services import RetryLater
from tests.hook.plugins.commands_on import bot_comments, handle, items, writes
from tests.hook.plugins.conftest import ORG, REPO

pytestmark = pytest.mark.django_db

SECTIONS = f"""
repo_milestone:
  {ORG}/{REPO}:
    maintainers_team: sig-leads
"""
NOT_ALLOWED = (
    f"You must be a member of the [{ORG}/sig-leads](https://github.com/orgs/{ORG}/"
    "teams/sig-leads/members) GitHub team to add status labels. If you believe "
    "you should be able to issue the /status command, please contact your "
    "SIG Chairs/TLs and have them propose you as an additional delegate for this "
    "responsibility."
)


@pytest.fixture
def on_item(post_webhook, fake_github, clean_broker):
    return items(post_webhook, fake_github)


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, on_item):
    plugins_enabled({f"{ORG}/{REPO}": ["milestonestatus"]}, SECTIONS)
    fake_github.add_team(ORG, "sig-leads", members=["sig-lead"])


CASES = [
    # (id, body, commenter, labels after, refused)
    (
        "approved",
        "/status approved-for-milestone",
        "sig-lead",
        ["status/approved-for-milestone"],
        False,
    ),
    ("in-progress", "/status in-progress", "sig-lead", ["status/in-progress"], False),
    ("in-review", "/status in-review", "sig-lead", ["status/in-review"], False),
    ("unknown-value", "/status done", "sig-lead", [], False),
    (
        "several",
        "/status in-progress\n/status in-review",
        "sig-lead",
        ["status/in-progress", "status/in-review"],
        False,
    ),
    ("trailing-space", "/status in-review   ", "sig-lead", ["status/in-review"], False),
    ("not-a-maintainer", "/status in-review", "sig-follow", [], True),
    ("unrelated", "status in-review", "sig-follow", [], False),
]


@pytest.mark.parametrize(
    ("body", "user", "after", "refused"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_status(fake_github, on_item, body, user, after, refused):
    item = on_item(pr=True, number=2)
    delivery = item.comment(body, user=user)
    assert delivery.plugin_results == {"milestonestatus:generic_comment": "ok"}
    assert sorted(fake_github.issue(ORG, REPO, 2).labels) == after
    # The original answers a refusal with a plain comment, not a reply.
    assert bot_comments(fake_github, 2) == ([NOT_ALLOWED] if refused else [])


def test_the_exact_request(fake_github, on_item):
    item = on_item(pr=True, number=2)
    fake_github.clear_requests()
    item.comment("/status in-progress\n/status in-review", user="sig-lead")
    (post,) = writes(fake_github)
    assert (post.method, post.path, post.body) == (
        "POST",
        f"/repos/{ORG}/{REPO}/issues/2/labels",
        {"labels": ["status/in-progress", "status/in-review"]},
    )


def test_a_second_handling_changes_nothing(fake_github, on_item):
    item = on_item(pr=True, number=2)
    first = item.comment("/status in-review", user="sig-follow")
    assert len(bot_comments(fake_github, 2)) == 1
    first.plugin_results = {}
    first.status = first.Status.PENDING
    first.save()
    fake_github.clear_requests()
    handle(first)
    assert writes(fake_github) == []
    assert len(bot_comments(fake_github, 2)) == 1


@pytest.mark.parametrize(
    ("user", "failing"),
    [("sig-lead", r"/issues/2/labels$"), ("sig-follow", r"/issues/2/comments$")],
)
def test_a_github_error_mid_command_is_retried_to_done_once(
    fake_github, on_item, user, failing
):
    item = on_item(pr=True, number=2)
    fake_github.fail_next("POST", failing, status=502)
    delivery = item.comment("/status in-review", user=user, handled=False)
    with pytest.raises(RetryLater):
        handle(delivery)
    delivery = handle(delivery)
    assert delivery.status == delivery.Status.DONE
    if user == "sig-lead":
        assert fake_github.issue(ORG, REPO, 2).labels == ["status/in-review"]
    else:
        assert bot_comments(fake_github, 2) == [NOT_ALLOWED]


def test_shares_milestones_section():
    assert plugin.config is SECTION
    (command,) = plugin.commands
    assert command.usage == "/status (approved-for-milestone|in-progress|in-review)"
