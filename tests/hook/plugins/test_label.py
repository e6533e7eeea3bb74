"""label through /hook: category and custom labels, restrictions, the
original's answers, and handling a comment twice or after a failure."""

import pytest

from hook.services import RetryLater
from prow.config.validation import validate
from tests.hook.plugins.commands_on import bot_comments, handle, items, writes
from tests.hook.plugins.conftest import ORG, REPO

pytestmark = pytest.mark.django_db

MEMBER, OUTSIDER = "alice", "bob"
RESTRICTED_YAML = """
label:
  additional_labels: [api-review, community/discussion]
  restricted_labels:
    "*":
    - label: restricted-label
      allowed_teams: [authorized-team]
    Codertocat/Hello-World:
    - label: only-carol
      allowed_users: [carol, dave]
      assign_on: [{label: needs-carol}]
"""


@pytest.fixture
def on_item(post_webhook, fake_github, clean_broker):
    return items(post_webhook, fake_github)


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, on_item):
    plugins_enabled({f"{ORG}/{REPO}": ["label"]}, RESTRICTED_YAML)
    fake_github.add_org_member(ORG, MEMBER)
    fake_github.add_team(ORG, "authorized-team", members=["erin"])


def labels_now(fake_github, number=1):
    return sorted(fake_github.issue(ORG, REPO, number).labels)


CASES = [
    # (id, body, repo labels, issue labels, commenter, labels after, answer)
    ("irrelevant", "Hello", ["area/infra"], [], MEMBER, [], None),
    ("empty-area", "/area", ["area/infra"], [], MEMBER, [], None),
    ("one-area", "/area infra", ["area/infra"], [], MEMBER, ["area/infra"], None),
    (
        "already-there",
        "/area infra",
        ["area/infra"],
        ["area/infra"],
        MEMBER,
        ["area/infra"],
        None,
    ),
    (
        "priority",
        "/priority critical",
        ["priority/critical"],
        [],
        MEMBER,
        ["priority/critical"],
        None,
    ),
    ("kind", "/kind bug", ["kind/bug"], [], MEMBER, ["kind/bug"], None),
    (
        "triage",
        "/triage needs-information",
        ["triage/needs-information"],
        [],
        OUTSIDER,
        ["triage/needs-information"],
        None,
    ),
    (
        "member-triage-accepted",
        "/triage accepted",
        ["triage/accepted"],
        [],
        MEMBER,
        ["triage/accepted"],
        None,
    ),
    (
        "outsider-triage-accepted",
        "/triage accepted",
        ["triage/accepted"],
        [],
        OUTSIDER,
        [],
        "The label `triage/accepted` cannot be applied. Only GitHub organization "
        "members can add the label.",
    ),
    (
        "case-insensitive",
        "/PRIORITY Critical",
        ["priority/critical"],
        [],
        MEMBER,
        [],
        None,
    ),
    (
        "words-lowered",
        "/priority Critical",
        ["priority/critical"],
        [],
        MEMBER,
        ["priority/critical"],
        None,
    ),
    (
        "missing-in-repo",
        "/priority critical",
        ["area/infra"],
        [],
        MEMBER,
        [],
        "The label(s) `priority/critical` cannot be applied, because the "
        "repository doesn't have them.",
    ),
    (
        "outsider-may-label",
        "/area infra",
        ["area/infra"],
        [],
        OUTSIDER,
        ["area/infra"],
        None,
    ),
    ("line-start-only", "  /area infra", ["area/infra"], [], MEMBER, [], None),
    (
        "several",
        "/area api infra",
        ["area/api", "area/infra"],
        [],
        MEMBER,
        ["area/api", "area/infra"],
        None,
    ),
    (
        "trailing-space",
        "/area api infra    ",
        ["area/api", "area/infra"],
        [],
        MEMBER,
        ["area/api", "area/infra"],
        None,
    ),
    (
        "some-valid",
        "/area api infra lgtm",
        ["area/api", "area/infra"],
        [],
        MEMBER,
        ["area/api", "area/infra"],
        "The label(s) `area/lgtm` cannot be applied, because the repository "
        "doesn't have them.",
    ),
    (
        "lines",
        "/kind bug\n/area infra",
        ["kind/bug", "area/infra"],
        [],
        MEMBER,
        ["area/infra", "kind/bug"],
        None,
    ),
    (
        "remove-not-on-issue",
        "/remove-area infra",
        ["area/infra"],
        [],
        MEMBER,
        [],
        "Those labels are not set on the issue: `area/infra`",
    ),
    ("remove", "/remove-area infra", ["area/infra"], ["area/infra"], MEMBER, [], None),
    (
        "remove-one-of-many",
        "/remove-sig testing",
        ["sig/testing", "sig/node"],
        ["sig/testing", "sig/node"],
        MEMBER,
        ["sig/node"],
        None,
    ),
    (
        "add-and-remove",
        "/remove-area infra\n/area test",
        ["area/infra", "area/test"],
        ["area/infra"],
        MEMBER,
        ["area/test"],
        None,
    ),
    (
        "many",
        "/remove-area ruby\n/remove-kind srv\n/remove-priority l m\n"
        "/area go\n/kind cli\n/priority h",
        [
            "area/go",
            "area/ruby",
            "kind/cli",
            "kind/srv",
            "priority/h",
            "priority/m",
            "priority/l",
        ],
        ["area/ruby", "kind/srv", "priority/l", "priority/m"],
        MEMBER,
        ["area/go", "kind/cli", "priority/h"],
        None,
    ),
    ("custom", "/label api-review", ["api-review"], [], MEMBER, ["api-review"], None),
    (
        "custom-trailing-crlf",
        "/label api-review\r\n",
        ["api-review"],
        [],
        MEMBER,
        ["api-review"],
        None,
    ),
    (
        "custom-remove",
        "/remove-label api-review",
        ["api-review"],
        ["api-review"],
        MEMBER,
        [],
        None,
    ),
    ("empty-custom", "/label", ["api-review"], [], MEMBER, [], None),
    (
        "custom-two-words",
        "/label api-review more",
        ["api-review"],
        [],
        MEMBER,
        [],
        None,
    ),
    (
        "custom-unconfigured",
        "/label foo",
        ["foo"],
        [],
        MEMBER,
        [],
        "The label(s) `/label foo` cannot be applied. These labels are supported: "
        "`api-review, community/discussion, only-carol, restricted-label`. Is this "
        "label configured under `labels -> additional_labels` or `labels -> "
        "restricted_labels` in `plugin.yaml`?",
    ),
    (
        "html-comment",
        "<!-- /area infra -->\n/area api",
        ["area/infra", "area/api"],
        [],
        MEMBER,
        ["area/api"],
        None,
    ),
    (
        "restricted-not-in-team",
        "/label restricted-label",
        ["restricted-label"],
        [],
        MEMBER,
        [],
        "The label(s) `restricted-label` cannot be applied or removed, because you "
        "are not in one of the allowed teams and are not an allowed user. Must be "
        "a member of one of these teams: authorized-team",
    ),
    (
        "restricted-in-team",
        "/label restricted-label",
        ["restricted-label"],
        [],
        "erin",
        ["restricted-label"],
        None,
    ),
    (
        "restricted-not-allowed-user",
        "/remove-label only-carol",
        ["only-carol"],
        ["only-carol"],
        MEMBER,
        ["only-carol"],
        "The label(s) `only-carol` cannot be applied or removed, because you are "
        "not in one of the allowed teams and are not an allowed user. Consider "
        "assigning one of the following members: carol,dave",
    ),
    (
        "restricted-allowed-user",
        "/remove-label only-carol",
        ["only-carol"],
        ["only-carol"],
        "Carol",
        [],
        None,
    ),
    (
        "needs-kind-back",
        "/remove-kind bug",
        ["kind/bug", "needs-kind"],
        ["kind/bug"],
        MEMBER,
        ["needs-kind"],
        None,
    ),
    (
        "needs-kind-not-while-one-stays",
        "/remove-kind bug",
        ["kind/bug", "kind/cleanup", "needs-kind"],
        ["kind/bug", "kind/cleanup"],
        MEMBER,
        ["kind/cleanup"],
        None,
    ),
    (
        "needs-kind-not-when-replaced",
        "/remove-kind bug\n/kind cleanup",
        ["kind/bug", "kind/cleanup", "needs-kind"],
        ["kind/bug"],
        MEMBER,
        ["kind/cleanup"],
        None,
    ),
    (
        "needs-only-if-repo-has-it",
        "/remove-sig node",
        ["sig/node"],
        ["sig/node"],
        MEMBER,
        [],
        None,
    ),
    (
        "area-has-no-needs",
        "/remove-area infra",
        ["area/infra", "needs-area"],
        ["area/infra"],
        MEMBER,
        [],
        None,
    ),
]


@pytest.mark.parametrize(
    ("body", "repo_labels", "issue_labels", "user", "after", "answer"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_label_commands(
    fake_github, on_item, body, repo_labels, issue_labels, user, after, answer
):
    for label in repo_labels:
        fake_github.add_label(ORG, REPO, label)
    item = on_item(labels=issue_labels)
    delivery = item.comment(body, user=user)
    assert delivery.plugin_results == {"label:generic_comment": "ok"}
    assert labels_now(fake_github) == sorted(after)
    replies = bot_comments(fake_github, 1)
    if answer is None:
        assert replies == []
    else:
        (reply,) = replies
        assert reply.startswith(f"@{user}: {answer}\n\n<details>")


def test_adds_go_in_one_request_with_the_repos_spelling(fake_github, on_item):
    fake_github.add_label(ORG, REPO, "area/API")
    fake_github.add_label(ORG, REPO, "area/infra")
    item = on_item()
    fake_github.clear_requests()
    item.comment("/area api infra")
    (post,) = fake_github.requests("POST", f"/repos/{ORG}/{REPO}/issues/1/labels")
    assert post.body == {"labels": ["area/API", "area/infra"]}


def test_a_removal_is_one_delete_of_that_label(fake_github, on_item):
    fake_github.add_label(ORG, REPO, "kind/bug")
    item = on_item(labels=["kind/bug"])
    fake_github.clear_requests()
    item.comment("/remove-kind bug")
    assert [(r.method, r.path) for r in writes(fake_github)] == [
        ("DELETE", f"/repos/{ORG}/{REPO}/issues/1/labels/kind/bug")
    ]


def test_edited_comments_do_nothing(fake_github, on_item):
    fake_github.add_label(ORG, REPO, "kind/bug")
    item = on_item()
    delivery = item.comment("/kind bug", action="edited")
    assert delivery.plugin_results == {"label:generic_comment": "ok"}
    assert labels_now(fake_github) == []


def test_commands_in_a_new_issue_description_count(fake_github, on_item):
    fake_github.add_label(ORG, REPO, "kind/bug")
    item = on_item()
    delivery = item.opened("Something broke.\n\n/kind bug\n")
    assert delivery.plugin_results == {"label:generic_comment": "ok"}
    assert labels_now(fake_github) == ["kind/bug"]


def test_commands_in_a_new_pull_request_description_count(fake_github, on_item):
    fake_github.add_label(ORG, REPO, "kind/cleanup")
    item = on_item(pr=True, number=2)
    item.opened("/kind cleanup")
    assert labels_now(fake_github, 2) == ["kind/cleanup"]


def test_assign_on_label_assigns_the_allowed_users(fake_github, on_item):
    for login in ("carol", "dave"):
        fake_github.add_collaborator(ORG, REPO, login)
    item = on_item(pr=True, number=2)
    fake_github.clear_requests()
    item.labeled("needs-carol")
    (post,) = fake_github.requests("POST", f"/repos/{ORG}/{REPO}/issues/2/assignees")
    assert post.body == {"assignees": ["carol", "dave"]}
    assert fake_github.issue(ORG, REPO, 2).assignees == ["carol", "dave"]


def test_another_label_assigns_nobody(fake_github, on_item):
    item = on_item(pr=True, number=2)
    fake_github.clear_requests()
    item.labeled("bug")
    assert writes(fake_github) == []


def test_a_second_handling_changes_nothing(fake_github, on_item):
    """The same comment handled again (a replay): no second answer, and no
    label taken off and put back."""
    for label in ("kind/bug", "needs-kind", "area/infra"):
        fake_github.add_label(ORG, REPO, label)
    item = on_item(labels=["kind/bug"])
    first = item.comment("/remove-kind bug\n/area infra\n/area nope")
    assert labels_now(fake_github) == ["area/infra", "needs-kind"]
    assert len(bot_comments(fake_github, 1)) == 1
    fake_github.clear_requests()
    first.plugin_results = {}
    first.status = first.Status.PENDING
    first.save()
    handle(first)
    assert labels_now(fake_github) == ["area/infra", "needs-kind"]
    assert len(bot_comments(fake_github, 1)) == 1
    removed = fake_github.requests("DELETE")
    assert all(r.status == 404 or "kind/bug" in r.path for r in removed)
    assert not any("needs-kind" in r.path for r in removed)


@pytest.mark.parametrize("failing", ["labels", "comments"])
def test_a_github_error_mid_command_is_retried_to_done_once(
    fake_github, on_item, failing
):
    fake_github.add_label(ORG, REPO, "kind/bug")
    item = on_item()
    fake_github.fail_next("POST", rf"/issues/1/{failing}$", status=502)
    delivery = item.comment("/kind bug\n/area nope", handled=False)
    with pytest.raises(RetryLater):
        handle(delivery)
    delivery = handle(delivery)
    assert delivery.status == delivery.Status.DONE
    assert labels_now(fake_github) == ["kind/bug"]
    (reply,) = bot_comments(fake_github, 1)
    assert "`area/nope` cannot be applied" in reply


def test_a_rate_limit_mid_command_is_retried_to_done_once(fake_github, on_item):
    fake_github.add_label(ORG, REPO, "kind/bug")
    item = on_item(labels=["kind/bug"])
    # Longer than the client waits in process: the delivery is retried later.
    fake_github.rate_limit_next(
        retry_after=600, path_regex=r"/issues/1/labels/kind/bug$"
    )
    delivery = item.comment("/remove-kind bug", handled=False)
    with pytest.raises(RetryLater):
        handle(delivery)
    assert labels_now(fake_github) == ["kind/bug"]
    delivery.refresh_from_db()
    assert "rate limit" in delivery.last_error
    handle(delivery)
    assert labels_now(fake_github) == []
    assert bot_comments(fake_github, 1) == []


def test_the_section_is_checked_with_lines():
    result = validate(
        "",
        "label:\n"
        "  restricted_labels:\n"
        "    org:\n"
        "    - label: x\n"
        "      allowed_users: [a]\n"
        "    - label: X\n"
        "      allowed_users: [b]\n"
        "    - label: y\n",
    )
    errors = [(e.path, e.line, e.message) for e in result.errors]
    assert errors == [
        (
            'label.restricted_labels["org"][1].label',
            6,
            "there are multiple label.restricted_labels configs for label X",
        )
    ]
    warnings = [(w.path, w.line) for w in result.warnings]
    assert ('label.restricted_labels["org"][2]', 8) in warnings


def test_the_section_has_the_originals_defaults():
    result = validate("", "")
    section = result.plugins.section("label")
    assert section.additional_labels == []
    assert section.restricted_labels == {}


def test_a_label_restricted_at_several_levels_allows_everyone_they_allow(
    fake_github, on_item, plugins_enabled
):
    plugins_enabled(
        {f"{ORG}/{REPO}": ["label"]},
        f"""
label:
  restricted_labels:
    "*":
    - label: approved-api
      allowed_users: [carol]
    {ORG}:
    - label: Approved-API
      allowed_teams: [authorized-team]
""",
    )
    fake_github.add_label(ORG, REPO, "approved-api")
    item = on_item()
    item.comment("/label approved-api", user="erin")
    assert labels_now(fake_github) == ["approved-api"]
    item.comment("/remove-label approved-api", user="carol")
    assert labels_now(fake_github) == []
    item.comment("/label approved-api", user=OUTSIDER)
    assert labels_now(fake_github) == []
    (reply,) = bot_comments(fake_github, 1)
    assert "Must be a member of one of these teams: authorized-team" in reply
