"""project through /hook: boards are the org's Projects (v2), served by the
GitHub double's GraphQL API against GitHub's real schema."""

import copy
import json
import re
import textwrap
import uuid
from dataclasses import dataclass, field

import pytest

from hook.models import WebhookDelivery
from hook.plugins.project import (
    ADDED,
    ADDED_IN_COLUMN,
    CLEARED,
    INVALID_COLUMN,
    INVALID_NUM_ARGS,
    INVALID_PROJECT,
    MOVED,
    NO_TEAM,
    NOBODY,
    NOT_A_MEMBER,
    NOT_ON_BOARD,
    SECTION,
    parse,
    plugin,
)
from hook.services import RetryLater, delivery_dispatch
from prow.config.validation import validate
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

ORG, REPO, OTHER_REPO = "Codertocat", "Hello-World", "community"
REPO_TEAM, ORG_TEAM = 42, 11
CONFIG = f"""
project_config:
  project_org_configs:
    {ORG}:
      org_maintainers_team_id: {ORG_TEAM}
      org_default_column_map:
        "0.0.0": Backlog
      project_repo_configs:
        {REPO}:
          repo_maintainers_team_id: {REPO_TEAM}
          repo_default_column_map:
            "0.1.0": To do
        {OTHER_REPO}:
          repo_default_column_map:
            "0.1.0": does not exist column
"""
COLUMNS = ("To do", "Backlog")
TEAM_LINK = (
    f"[{ORG}/project-maintainers](https://github.com/orgs/{ORG}/teams/"
    "project-maintainers/members)"
)


@pytest.fixture(autouse=True)
def world(settings, fake_github, plugins_enabled, clean_broker):
    settings.PROW_GITHUB_GRAPHQL_ENDPOINT = f"{fake_github.url}/graphql"
    plugins_enabled(
        {f"{ORG}/{REPO}": ["project"], f"{ORG}/{OTHER_REPO}": ["project"]},
        extra_yaml=CONFIG,
    )
    for repo in (REPO, OTHER_REPO):
        fake_github.add_repo(ORG, repo)
        fake_github.add_issue(ORG, repo, number=1)
    fake_github.add_pull(ORG, REPO, number=2, author="carol", head_sha="c" * 40)
    fake_github.add_team(ORG, "project-maintainers", id=REPO_TEAM, members=["sig-lead"])
    fake_github.add_team(ORG, "org-maintainers", id=ORG_TEAM, members=["org-lead"])
    boards = {
        title: fake_github.add_project_v2(ORG, title, COLUMNS)
        for title in ("0.0.0", "0.1.0")
    }
    boards["2.0"] = fake_github.add_project_v2(ORG, "2.0", ("Todo", "Done"))
    fake_github.add_project_v2(ORG, "retired", COLUMNS, closed=True)
    fake_github.add_project_v2("elsewhere", "0.9.0", COLUMNS)
    return boards


def deliver(
    post_webhook,
    body: str,
    *,
    user: str = "sig-lead",
    repo: str = REPO,
    number: int = 1,
    is_pr: bool = False,
    action: str = "created",
    guid: str | None = None,
) -> WebhookDelivery:
    """Post "user commented body on repo#number" to /hook and handle it."""
    payload = copy.deepcopy(fixture_payload("issue_comment.created"))
    payload["action"] = action
    payload["repository"].update(name=repo, full_name=f"{ORG}/{repo}")
    payload["issue"]["number"] = number
    if is_pr:
        payload["issue"]["pull_request"] = {"url": "https://example.invalid/pull"}
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = user
    payload["sender"]["login"] = user
    response = post_webhook("issue_comment", payload, guid=guid or str(uuid.uuid4()))
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.latest("received_at")
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def placement(fake_github, board, repo=REPO, number=1) -> str | None:
    """Where the issue is on a board: its Status name, "" for none, None
    when it is not on it."""
    item = board.item_for(ORG, repo, number)
    if item is None:
        return None
    return board.status_of(item) or ""


def replies(fake_github, repo=REPO, number=1) -> list[str]:
    return [c.body for c in fake_github.comments(ORG, repo, number)]


def graphql_operations(fake_github) -> list[str]:
    """The operations sent to /graphql, in order, by their names."""
    names = []
    for request in fake_github.requests("POST", "/graphql"):
        found = re.search(r"(query|mutation)\s+(\w+)", request.body["query"])
        names.append(found.group(2))
    return names


# The original's cases, on Projects (v2) ------------------------------------------


@dataclass
class Case:
    name: str
    body: str
    user: str = "sig-lead"
    repo: str = REPO
    before: dict[str, str] = field(default_factory=dict)  # board -> Status
    after: dict[str, str | None] = field(default_factory=dict)
    reply: str | None = None


CASES = [
    Case(
        "a commenter outside the maintainer team is refused",
        "/project 0.0.0 To do",
        user="random-user",
        after={"0.0.0": None},
        reply=NOT_A_MEMBER.format(team=TEAM_LINK),
    ),
    Case(
        "board and column given, not on the board yet",
        "/project 0.0.0 To do",
        after={"0.0.0": "To do"},
        reply=ADDED_IN_COLUMN.format(kind="issue", board="0.0.0", column="To do"),
    ),
    Case(
        "on the board in another column: moved",
        "/project 0.0.0 To do",
        before={"0.0.0": "Backlog"},
        after={"0.0.0": "To do"},
        reply=MOVED.format(kind="issue", column="To do", board="0.0.0"),
    ),
    Case(
        "no column: the repo's default column",
        "/project 0.1.0",
        before={"0.0.0": "Backlog"},
        after={"0.1.0": "To do", "0.0.0": "Backlog"},
        reply=ADDED_IN_COLUMN.format(kind="issue", board="0.1.0", column="To do"),
    ),
    Case(
        "no column: the org's default column",
        "/project 0.0.0",
        after={"0.0.0": "Backlog"},
        reply=ADDED_IN_COLUMN.format(kind="issue", board="0.0.0", column="Backlog"),
    ),
    Case(
        "the configured default column is not on the board",
        "/project 0.1.0",
        user="org-lead",
        repo=OTHER_REPO,
        before={"0.0.0": "Backlog"},
        after={"0.0.0": "Backlog", "0.1.0": None},
        reply=INVALID_COLUMN.format(board="0.1.0", columns="`To do`, `Backlog`"),
    ),
    Case(
        "a column the board does not have",
        "/project 0.1.0 Random 2",
        after={"0.1.0": None},
        reply=INVALID_COLUMN.format(board="0.1.0", columns="`To do`, `Backlog`"),
    ),
    Case(
        "clear, on the board",
        "/project clear 0.0.0",
        before={"0.0.0": "Backlog"},
        after={"0.0.0": None},
        reply=CLEARED.format(board="0.0.0"),
    ),
    Case(
        "an unknown board: the org's open boards are listed",
        "/project invalidprojectname",
        user="org-lead",
        repo=OTHER_REPO,
        reply=INVALID_PROJECT.format(org=ORG, boards="`0.0.0`, `0.1.0`, `2.0`"),
    ),
    Case(
        "clear an unknown board",
        "/project clear invalidprojectname",
        before={"0.1.0": "To do"},
        after={"0.1.0": "To do"},
        reply=INVALID_PROJECT.format(org=ORG, boards="`0.0.0`, `0.1.0`, `2.0`"),
    ),
    Case(
        "clear a board the issue is not on",
        "/project clear 0.1.0",
        before={"0.0.0": "To do"},
        after={"0.0.0": "To do", "0.1.0": None},
        reply=NOT_ON_BOARD.format(board="0.1.0", number=1),
    ),
    Case(
        "a closed board is not offered",
        "/project retired",
        reply=INVALID_PROJECT.format(org=ORG, boards="`0.0.0`, `0.1.0`, `2.0`"),
    ),
    Case(
        "no column and no default: on the board without a Status",
        "/project 2.0",
        after={"2.0": ""},
        reply=ADDED.format(kind="issue", board="2.0"),
    ),
    Case(
        "quoted board and column, column in another case",
        "/project '2.0' \"done\"",
        after={"2.0": "Done"},
        reply=ADDED_IN_COLUMN.format(kind="issue", board="2.0", column="Done"),
    ),
    Case(
        "/clear-project",
        "/clear-project 0.0.0",
        before={"0.0.0": "To do"},
        after={"0.0.0": None},
        reply=CLEARED.format(board="0.0.0"),
    ),
    Case("clear without a board", "/project clear", reply=INVALID_NUM_ARGS),
    Case(
        "the repo without a team of its own uses the org's",
        "/project 0.0.0 To do",
        user="org-lead",
        repo=OTHER_REPO,
        after={"0.0.0": "To do"},
        reply=ADDED_IN_COLUMN.format(kind="issue", board="0.0.0", column="To do"),
    ),
    Case("not a command", "random comment", after={"0.0.0": None}),
    Case("no arguments is not the command", "/project", after={"0.0.0": None}),
    Case(
        "already in that column: nothing to change or say",
        "/project 0.0.0 Backlog",
        before={"0.0.0": "Backlog"},
        after={"0.0.0": "Backlog"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_project_command(case, fake_github, world, post_webhook):
    for title, status in case.before.items():
        fake_github.add_project_v2_item(world[title], ORG, case.repo, 1, status)
    delivery = deliver(post_webhook, case.body, user=case.user, repo=case.repo)
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.last_error
    for title, status in case.after.items():
        assert placement(fake_github, world[title], case.repo) == status, title
    posted = replies(fake_github, case.repo)
    if case.reply is None:
        assert posted == []
    else:
        (body,) = posted
        assert body.startswith(f"@{case.user}: {case.reply}\n\n<details>")
        assert f"In response to [this](https://github.com/{ORG}/" in body


def test_on_a_pull_request_the_reply_says_pr(fake_github, world, post_webhook):
    deliver(post_webhook, "/project 0.0.0 To do", number=2, is_pr=True)
    assert placement(fake_github, world["0.0.0"], number=2) == "To do"
    (body,) = replies(fake_github, number=2)
    assert ADDED_IN_COLUMN.format(kind="PR", board="0.0.0", column="To do") in body


def test_an_org_without_project_config_has_no_team(
    fake_github, plugins_enabled, post_webhook
):
    plugins_enabled({f"{ORG}/{REPO}": ["project"]})
    deliver(post_webhook, "/project 0.0.0 To do")
    (body,) = replies(fake_github)
    assert body.startswith(f"@sig-lead: {NO_TEAM}")
    assert fake_github.requests("POST", "/graphql") == []


def test_edits_and_the_bots_own_comments_are_ignored(fake_github, post_webhook):
    deliver(post_webhook, "/project 0.0.0 To do", action="edited")
    deliver(post_webhook, "/project 0.0.0 To do", user="prow-bot")
    assert replies(fake_github) == []
    assert fake_github.requests("POST", "/graphql") == []


def test_the_exact_calls_of_adding_to_a_column(fake_github, world, post_webhook):
    fake_github.clear_requests()
    deliver(post_webhook, "/project 0.0.0 To do")
    writes = [
        (r.method, r.path)
        for r in fake_github.requests()
        if r.method != "GET" or "/teams/" in r.path
    ]
    assert writes == [
        ("GET", f"/teams/{REPO_TEAM}/memberships/sig-lead"),
        ("POST", "/graphql"),
        ("POST", "/graphql"),
        ("POST", "/graphql"),
        ("POST", "/graphql"),
        ("POST", f"/repos/{ORG}/{REPO}/issues/1/comments"),
    ]
    assert graphql_operations(fake_github) == ["Boards", "Content", "Add", "SetStatus"]
    board = world["0.0.0"]
    add, set_status = fake_github.requests("POST", "/graphql")[2:]
    item = board.item_for(ORG, REPO, 1)
    assert add.body["variables"]["board"] == board.id
    assert set_status.body["variables"] == {
        "board": board.id,
        "item": item.id,
        "field": board.status_field_id,
        "option": board.option("To do").id,
    }
    # Every answer was a success, not a GraphQL error.
    assert all(r.status == 200 for r in fake_github.requests("POST", "/graphql"))


def test_clearing_deletes_the_item(fake_github, world, post_webhook):
    board = world["0.0.0"]
    item = fake_github.add_project_v2_item(board, ORG, REPO, 1, "Backlog")
    fake_github.clear_requests()
    deliver(post_webhook, "/clear-project 0.0.0")
    assert graphql_operations(fake_github) == ["Boards", "Content", "Delete"]
    delete = fake_github.requests("POST", "/graphql")[-1]
    assert delete.body["variables"] == {"board": board.id, "item": item.id}
    assert board.items == []


# Handling the same command again --------------------------------------------------


def test_handling_the_same_event_again_changes_nothing(
    fake_github, world, post_webhook
):
    delivery = deliver(post_webhook, "/project 0.0.0 To do")
    assert len(replies(fake_github)) == 1
    # A replay of the delivery with every plugin run again.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, plugin_results={}
    )
    fake_github.clear_requests()
    delivery_dispatch(delivery.pk)
    assert graphql_operations(fake_github) == ["Boards", "Content"]
    assert [r for r in fake_github.requests() if r.method == "POST"][2:] == []
    assert len(replies(fake_github)) == 1
    assert len(world["0.0.0"].items) == 1


def test_a_redelivery_is_not_handled_twice(fake_github, world, post_webhook):
    guid = str(uuid.uuid4())
    deliver(post_webhook, "/project 0.0.0 To do", guid=guid)
    fake_github.clear_requests()
    deliver(post_webhook, "/project 0.0.0 To do", guid=guid)
    assert fake_github.requests("POST") == []
    assert len(replies(fake_github)) == 1


# GitHub failing half way -----------------------------------------------------------


def _first_attempt_fails(post_webhook) -> WebhookDelivery:
    with pytest.raises(RetryLater) as raised:
        deliver(post_webhook, "/project 0.0.0 To do")
    delivery = WebhookDelivery.objects.latest("received_at")
    assert delivery.status == WebhookDelivery.Status.FAILED
    return delivery, raised.value


@pytest.mark.parametrize(
    "fail",
    [
        pytest.param(
            lambda fake: fake.fail_graphql("updateProjectV2ItemFieldValue", 502),
            id="setting the Status answers 502",
        ),
        pytest.param(
            lambda fake: fake.fail_graphql(
                "addProjectV2ItemById",
                200,
                errors=[{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}],
            ),
            id="adding the item is rate limited",
        ),
        pytest.param(
            lambda fake: fake.fail_next(
                "POST", rf"^/repos/{ORG}/{REPO}/issues/1/comments$", 502
            ),
            id="the reply answers 502",
        ),
        pytest.param(
            lambda fake: fake.rate_limit_next(retry_after=600, path_regex="^/graphql$"),
            id="GraphQL is rate limited for ten minutes",
        ),
    ],
)
def test_a_failure_half_way_is_finished_once_by_the_retry(
    fail, fake_github, world, post_webhook
):
    fail(fake_github)
    delivery, error = _first_attempt_fails(post_webhook)
    assert error.retry_after is None or error.retry_after >= 1
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.last_error
    board = world["0.0.0"]
    assert len(board.items) == 1
    assert placement(fake_github, board) == "To do"
    (body,) = replies(fake_github)
    assert ADDED_IN_COLUMN.format(kind="issue", board="0.0.0", column="To do") in body


def test_a_rate_limit_asks_for_the_wait_github_named(fake_github, post_webhook):
    fake_github.rate_limit_next(retry_after=600, path_regex="^/graphql$")
    _, error = _first_attempt_fails(post_webhook)
    assert error.retry_after >= 590


def test_a_query_github_would_refuse_fails_the_command(
    fake_github, post_webhook, monkeypatch
):
    from prow.github import projects

    monkeypatch.setattr(
        projects, "_BOARDS", projects._BOARDS.replace("closed", "isClosed")
    )
    delivery = deliver(post_webhook, "/project 0.0.0 To do")
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "Cannot query field 'isClosed' on type 'ProjectV2'" in delivery.last_error
    assert replies(fake_github) == []


# The command's words and its section -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("0.0.0 To do", ("0.0.0", "To do", False)),
        ("0.0.0 Backlog", ("0.0.0", "Backlog", False)),
        ("clear 0.0.0", ("0.0.0", "", True)),
        ("clear 0.0.0 Backlog", ("0.0.0", "Backlog", True)),
        ("clear", None),
        ("0.0.0", ("0.0.0", "", False)),
        ("'0.0.0'", ("0.0.0", "", False)),
        ('"0.0.0"', ("0.0.0", "", False)),
        ("'0.0.0' To do", ("0.0.0", "To do", False)),
        ("'0.0.0' \"To do\"", ("0.0.0", "To do", False)),
        ("'something 0.0.0' \"To do\"", ("something 0.0.0", "To do", False)),
        ("clear '0.0.0' \"To do\"", ("0.0.0", "To do", True)),
        ("clear 'something 0.0.0' \"To do\"", ("something 0.0.0", "To do", True)),
        ("'a' 'b' 'c'", None),
    ],
)
def test_parse(args, expected):
    request = parse(args)
    got = None if request is None else (request.board, request.column, request.clear)
    assert got == expected


@pytest.mark.parametrize(
    ("body", "matches"),
    [
        ("/project 0.0.0", True),
        ("/project", False),
        ("random comment", False),
        ("/projects 0.0.0", False),
        ("text\n/clear-project 0.0.0", True),
    ],
)
def test_the_command_patterns(body, matches):
    assert any(c.pattern.search(body) for c in plugin.commands) is matches


@pytest.mark.parametrize(
    ("org", "repo", "team"),
    [("kubernetes", "kubernetes", 42), ("kubernetes", "community", 11)]
    + [("kubernetes-sigs", "kubespray", 10), ("kubernetes-sigs", "kind", 0)]
    + [("kubeflow", "any", 20), ("unknown", "repo", 0)],
)
def test_the_maintainer_team(org, repo, team):
    config = SECTION.parse(
        {
            "project_org_configs": {
                "kubernetes": {
                    "org_maintainers_team_id": 11,
                    "project_repo_configs": {
                        "kubernetes": {"repo_maintainers_team_id": 42}
                    },
                },
                "kubeflow": {"org_maintainers_team_id": 20},
                "kubernetes-sigs": {
                    "project_repo_configs": {
                        "kubespray": {"repo_maintainers_team_id": 10},
                        "kind": {},
                    }
                },
            }
        }
    )
    assert config.maintainer_team(org, repo) == team


def test_the_section_is_checked_with_lines():
    result = validate(
        "",
        textwrap.dedent(
            """\
            project_config:
              project_org_configs:
                acme/app:
                  org_maintainers_team_id: -1
                quiet:
                  project_repo_configs:
                    x: {}
            """
        ),
    )
    errors = sorted((e.line, e.message) for e in result.errors)
    assert [line for line, _ in errors] == [3, 4]
    assert "keys here are orgs" in errors[0][1]
    assert "positive" in errors[1][1]
    assert [(w.line, w.message) for w in result.warnings] == [(7, NOBODY)]


def test_a_mistyped_section_is_refused_with_its_line():
    text = "project_config:\n  project_org_configs:\n    acme:\n"
    text += "      org_maintainers_team_id: many\n"
    result = validate("", text)
    assert [e.line for e in result.errors] == [4]


def test_the_help_entry_lists_both_commands():
    usages = [command.usage for command in plugin.commands]
    assert usages == [
        "/project <board>, /project <board> <column>, or /project clear <board>",
        "/clear-project <board>",
    ]
    assert "Projects (v2)" in plugin.description
    assert json.dumps(plugin.config_help)
