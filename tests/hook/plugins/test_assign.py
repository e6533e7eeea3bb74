"""assign through /hook: /assign, /unassign, /cc and /uncc, who GitHub
refuses, and handling a comment twice or after a failure."""

import pytest

from hook.plugins.assign import plugin
from hook.services import RetryLater
from tests.hook.plugins.commands_on import bot_comments, handle, items, writes
from tests.hook.plugins.conftest import ORG, REPO

pytestmark = pytest.mark.django_db

PEOPLE = [
    "fejta",
    "spxtr",
    "hello-world",
    "allow_underscore",
    "bert",
    "ernie",
    "merlin",
    "rando",
    "cjwagner",
    "ashitaka",
    "eboshi",
    "san",
    "innocent",
]
NOT_ASSIGNED = (
    "GitHub didn't allow me to assign the following users: {}.\n\n"
    f"Note that only [{ORG} members](https://github.com/orgs/{ORG}/people) with "
    "read permissions, repo collaborators and people who have commented on this "
    "issue/PR can be assigned. Additionally, issues/PRs can only have 10 "
    "assignees at the same time.\nFor more information please see [the "
    "contributor guide](https://git.k8s.io/community/contributors/guide/"
    "first-contribution.md#issue-assignment-in-github)"
)
NOT_REQUESTED = (
    "GitHub didn't allow me to request PR reviews from the following users: "
    "{}.\n\n"
    f"Note that only [{ORG} members](https://github.com/orgs/{ORG}/people) and "
    "repo collaborators can review this PR, and authors cannot review their own "
    "PRs."
)


@pytest.fixture
def on_item(post_webhook, fake_github, clean_broker):
    return items(post_webhook, fake_github)


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, on_item):
    plugins_enabled({f"{ORG}/{REPO}": ["assign"]})
    for login in PEOPLE:
        fake_github.add_collaborator(ORG, REPO, login)
    fake_github.add_user("evil")


ASSIGN_CASES = [
    # (id, body, commenter, assigned before, assigned after, refused)
    ("unrelated", "uh oh", "rando", [], [], None),
    ("assign-me", "/assign", "rando", [], ["rando"], None),
    ("unassign-me", "/unassign", "rando", ["rando"], [], None),
    ("tab-completion", "/assign @fejta ", "rando", [], ["fejta"], None),
    ("no-at", "/assign fejta", "rando", [], ["fejta"], None),
    (
        "multi",
        "/assign @fejta\n/unassign @spxtr",
        "rando",
        ["spxtr"],
        ["fejta"],
        None,
    ),
    (
        "interesting-names",
        "/assign @hello-world @allow_underscore",
        "rando",
        [],
        ["hello-world", "allow_underscore"],
        None,
    ),
    ("bad-login", "/assign @Invalid$User", "rando", [], [], None),
    ("bad-login-no-at", "/assign Invalid$User", "rando", [], [], None),
    ("friends", "/assign @bert @ernie", "rando", [], ["bert", "ernie"], None),
    (
        "unassign-buddies-cr",
        "/unassign @ashitaka @eboshi \r",
        "san",
        ["ashitaka", "eboshi"],
        [],
        None,
    ),
    ("evil-commenter", "/assign @merlin", "evil", [], ["merlin"], None),
    ("evil-self", "/assign", "evil", [], [], "evil"),
    (
        "evil-assignee",
        "/assign @evil @evil @evil @evil @merlin",
        "innocent",
        [],
        ["merlin"],
        "evil",
    ),
    (
        "evil-unassignee",
        "/unassign @evil @merlin",
        "innocent",
        ["merlin"],
        [],
        None,
    ),
    ("already-assigned", "/assign @merlin", "rando", ["merlin"], ["merlin"], None),
    ("case-insensitive", "/ASSIGN @merlin", "rando", [], ["merlin"], None),
    ("cc-on-an-issue-is-nothing", "/cc @merlin", "rando", [], [], None),
]


@pytest.mark.parametrize(
    ("body", "user", "before", "after", "refused"),
    [pytest.param(*case[1:], id=case[0]) for case in ASSIGN_CASES],
)
def test_assign_on_an_issue(fake_github, on_item, body, user, before, after, refused):
    item = on_item(assignees=before)
    delivery = item.comment(body, user=user)
    assert delivery.plugin_results == {"assign:generic_comment": "ok"}
    assert fake_github.issue(ORG, REPO, 1).assignees == after
    replies = bot_comments(fake_github, 1)
    if refused is None:
        assert replies == []
    else:
        (reply,) = replies
        assert reply.startswith(f"@{user}: {NOT_ASSIGNED.format(refused)}\n\n")


CC_CASES = [
    # (id, body, commenter, requested before, requested after, refused)
    ("review", "/cc @merlin", "rando", [], ["merlin"], None),
    ("tab-completion", "/cc @cjwagner ", "rando", [], ["cjwagner"], None),
    ("no-at", "/cc cjwagner ", "rando", [], ["cjwagner"], None),
    (
        "multi",
        "/cc @cjwagner\n/uncc @spxtr",
        "rando",
        ["spxtr"],
        ["cjwagner"],
        None,
    ),
    ("bad-login", "/cc @Invalid$User", "rando", [], [], None),
    ("several", "/cc @cjwagner @merlin", "rando", [], ["cjwagner", "merlin"], None),
    ("uncc", "/uncc @ashitaka @eboshi", "san", ["ashitaka", "eboshi"], [], None),
    ("myself", "/cc", "rando", [], ["rando"], None),
    ("evil-reviewer", "/cc @evil @merlin", "innocent", [], ["merlin"], "evil"),
    (
        "the-author",
        "/cc @Codertocat @merlin",
        "rando",
        [],
        ["merlin"],
        "Codertocat",
    ),
    ("uncc-evil", "/uncc @evil @merlin", "innocent", ["merlin"], [], None),
]


@pytest.mark.parametrize(
    ("body", "user", "before", "after", "refused"),
    [pytest.param(*case[1:], id=case[0]) for case in CC_CASES],
)
def test_cc_on_a_pull_request(fake_github, on_item, body, user, before, after, refused):
    fake_github.add_collaborator(ORG, REPO, "Codertocat")
    item = on_item(pr=True, number=2)
    fake_github.pull(ORG, REPO, 2).requested_reviewers = list(before)
    item.comment(body, user=user)
    assert fake_github.pull(ORG, REPO, 2).requested_reviewers == after
    replies = bot_comments(fake_github, 2)
    if refused is None:
        assert replies == []
    else:
        (reply,) = replies
        assert reply.startswith(f"@{user}: {NOT_REQUESTED.format(refused)}\n\n")


def test_the_exact_requests(fake_github, on_item):
    item = on_item(pr=True, number=2, assignees=["spxtr"])
    fake_github.pull(ORG, REPO, 2).requested_reviewers = ["merlin"]
    fake_github.clear_requests()
    item.comment("/assign @bert ernie\n/unassign spxtr\n/cc @fejta\n/uncc merlin")
    base = f"/repos/{ORG}/{REPO}"
    assert [(r.method, r.path, r.body) for r in writes(fake_github)] == [
        ("DELETE", f"{base}/issues/2/assignees", {"assignees": ["spxtr"]}),
        ("POST", f"{base}/issues/2/assignees", {"assignees": ["bert", "ernie"]}),
        ("DELETE", f"{base}/pulls/2/requested_reviewers", {"reviewers": ["merlin"]}),
        ("POST", f"{base}/pulls/2/requested_reviewers", {"reviewers": ["fejta"]}),
    ]


def test_cc_a_team_of_the_org_asks_the_team(fake_github, on_item):
    fake_github.add_team(ORG, "sig-foo", members=["bert"])
    item = on_item(pr=True, number=2)
    fake_github.clear_requests()
    item.comment(f"/cc @{ORG}/sig-foo @other-org/sig-bar")
    (post,) = fake_github.requests(
        "POST", f"/repos/{ORG}/{REPO}/pulls/2/requested_reviewers"
    )
    assert post.body == {"team_reviewers": ["sig-foo"]}
    assert fake_github.pull(ORG, REPO, 2).requested_teams == ["sig-foo"]
    (reply,) = bot_comments(fake_github, 2)
    assert "following users: other-org/sig-bar." in reply


def test_refused_people_are_named_once_per_kind(fake_github, on_item):
    item = on_item(pr=True, number=2)
    item.comment("/assign @evil @ghost @merlin\n/cc @evil")
    assert fake_github.issue(ORG, REPO, 2).assignees == ["merlin"]
    assign_reply, cc_reply = bot_comments(fake_github, 2)
    assert "assign the following users: evil, ghost." in assign_reply
    assert "request PR reviews from the following users: evil." in cc_reply


def test_commands_in_a_new_pull_request_description_count(fake_github, on_item):
    item = on_item(pr=True, number=2)
    item.opened("Fixes things.\n\n/assign @merlin\n/cc @fejta")
    assert fake_github.issue(ORG, REPO, 2).assignees == ["merlin"]
    assert fake_github.pull(ORG, REPO, 2).requested_reviewers == ["fejta"]


def test_edited_comments_do_nothing(fake_github, on_item):
    item = on_item()
    item.comment("/assign", user="rando", action="edited")
    assert fake_github.issue(ORG, REPO, 1).assignees == []


def test_a_second_handling_changes_nothing(fake_github, on_item):
    item = on_item()
    first = item.comment("/assign @merlin @evil", user="rando")
    assert len(bot_comments(fake_github, 1)) == 1
    first.plugin_results = {}
    first.status = first.Status.PENDING
    first.save()
    fake_github.clear_requests()
    handle(first)
    assert fake_github.issue(ORG, REPO, 1).assignees == ["merlin"]
    assert len(bot_comments(fake_github, 1)) == 1
    assert fake_github.requests("DELETE") == []


@pytest.mark.parametrize(
    "failing",
    [r"/issues/2/assignees$", r"/pulls/2/requested_reviewers$", r"/comments$"],
)
def test_a_github_error_mid_command_is_retried_to_done_once(
    fake_github, on_item, failing
):
    item = on_item(pr=True, number=2)
    fake_github.fail_next("POST", failing, status=502)
    delivery = item.comment("/assign @merlin @evil\n/cc @fejta", handled=False)
    with pytest.raises(RetryLater):
        handle(delivery)
    delivery = handle(delivery)
    assert delivery.status == delivery.Status.DONE
    assert fake_github.issue(ORG, REPO, 2).assignees == ["merlin"]
    assert fake_github.pull(ORG, REPO, 2).requested_reviewers == ["fejta"]
    (reply,) = bot_comments(fake_github, 2)
    assert "assign the following users: evil." in reply


def test_help_names_both_commands():
    assert [c.usage for c in plugin.commands] == [
        "/[un]assign [[@]<username>...|[@]<orgname/teamname>...]",
        "/[un]cc [[@]<username>...|[@]<orgname/teamname>...]",
    ]
    assert plugin.events == ["generic_comment"]


def test_uncc_a_team_stops_asking_it(fake_github, on_item):
    fake_github.add_team(ORG, "sig-foo", members=["bert"])
    item = on_item(pr=True, number=2)
    fake_github.pull(ORG, REPO, 2).requested_teams = ["sig-foo"]
    fake_github.clear_requests()
    item.comment(f"/uncc {ORG}/sig-foo")
    (delete,) = writes(fake_github)
    assert (delete.method, delete.body) == ("DELETE", {"team_reviewers": ["sig-foo"]})
    assert fake_github.pull(ORG, REPO, 2).requested_teams == []
