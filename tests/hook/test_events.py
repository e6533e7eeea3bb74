import json

import pytest

from hook.events import Event, GenericComment, generic_comment, login_of, repo_of
from tests.webhooks import FIXTURES, fixture_payload

GUID = "5d7c2d9e-0000-4000-8000-000000000001"

# Spec 5.1: the events and actions that carry text, and what they become.
TEXT_ACTIONS = {
    ("issue_comment", "created"): "created",
    ("issue_comment", "edited"): "edited",
    ("issue_comment", "deleted"): "deleted",
    ("pull_request_review", "submitted"): "created",
    ("pull_request_review", "edited"): "edited",
    ("pull_request_review", "dismissed"): "deleted",
    ("pull_request_review_comment", "created"): "created",
    ("pull_request_review_comment", "edited"): "edited",
    ("pull_request_review_comment", "deleted"): "deleted",
    ("pull_request", "opened"): "created",
    ("pull_request", "edited"): "edited",
    ("issues", "opened"): "created",
    ("issues", "edited"): "edited",
}


def user(login: str) -> dict:
    return {"login": login, "id": abs(hash(login)) % 10**6, "type": "User"}


def synthesise(kind: str, payload: dict) -> GenericComment | None:
    return generic_comment(Event(kind, GUID, payload))


def comment_payload(action: str, *, on_pr: bool) -> dict:
    payload = fixture_payload("issue_comment.created")
    payload["action"] = action
    payload["comment"]["user"] = user("commenter")
    payload["comment"]["body"] = "/lgtm\r\nnice"
    payload["issue"]["assignees"] = [user("alice"), user("bob")]
    if on_pr:
        number = payload["issue"]["number"]
        payload["issue"]["pull_request"] = {
            "url": f"https://api.github.com/repos/Codertocat/Hello-World/pulls/{number}"
        }
    return payload


# ---------------------------------------------------------------- the table


def _all_examples():
    for path in sorted(FIXTURES.glob("*.json")):
        kind = path.name.split(".")[0]
        yield pytest.param(path, kind, id=path.stem)


@pytest.mark.parametrize(("path", "kind"), list(_all_examples()))
def test_every_vendored_example_is_a_generic_comment_exactly_per_the_table(path, kind):
    payload = json.loads(path.read_text(encoding="utf-8"))
    comment = synthesise(kind, payload)
    expected = TEXT_ACTIONS.get((kind, payload.get("action")))
    if expected is None:
        assert comment is None
    else:
        assert comment is not None
        assert comment.action == expected
        assert comment.source == kind


def test_the_examples_cover_text_events_and_ignored_actions():
    # Guards the table test above against a thinned-out fixture folder.
    present = {tuple(p.name.split(".")[:2]) for p in FIXTURES.glob("*.json")}
    assert {
        ("issue_comment", "created"),
        ("issue_comment", "edited"),
        ("issue_comment", "deleted"),
        ("pull_request_review", "submitted"),
        ("pull_request_review", "dismissed"),
        ("pull_request_review_comment", "created"),
        ("pull_request_review_comment", "edited"),
        ("pull_request_review_comment", "deleted"),
        ("pull_request", "opened"),
        ("pull_request", "labeled"),
        ("pull_request", "synchronize"),
        ("pull_request", "closed"),
        ("issues", "opened"),
        ("issues", "edited"),
        ("issues", "labeled"),
    } <= present


# ------------------------------------------------------------ issue_comment


@pytest.mark.parametrize("action", ["created", "edited", "deleted"])
def test_issue_comment_on_an_issue(action):
    payload = comment_payload(action, on_pr=False)
    comment = synthesise("issue_comment", payload)
    assert comment == GenericComment(
        action=action,
        body="/lgtm\r\nnice",
        user="commenter",
        is_pr=False,
        number=1,
        org="Codertocat",
        repo="Hello-World",
        html_url=payload["comment"]["html_url"],
        guid=GUID,
        issue_author="Codertocat",
        issue_state="open",
        issue_title="Spelling error in the README file",
        issue_body="It looks like you accidently spelled 'commit' with two 't's.",
        issue_html_url="https://github.com/Codertocat/Hello-World/issues/1",
        assignees=("alice", "bob"),
        labels=("bug",),
        comment_id=payload["comment"]["id"],
        source="issue_comment",
    )


@pytest.mark.parametrize("action", ["created", "edited", "deleted"])
def test_issue_comment_on_a_pull_request_is_a_pr_comment(action):
    comment = synthesise("issue_comment", comment_payload(action, on_pr=True))
    assert comment.is_pr is True
    assert comment.action == action
    assert comment.user == "commenter"
    assert comment.issue_author == "Codertocat"


def test_a_null_pull_request_key_does_not_make_a_pr():
    payload = comment_payload("created", on_pr=False)
    payload["issue"]["pull_request"] = None
    assert synthesise("issue_comment", payload).is_pr is False


def test_a_closed_issue_state_is_carried():
    payload = comment_payload("created", on_pr=False)
    payload["issue"]["state"] = "closed"
    assert synthesise("issue_comment", payload).issue_state == "closed"


# ------------------------------------------------------ pull_request_review


@pytest.mark.parametrize(
    ("action", "expected"),
    [("submitted", "created"), ("edited", "edited"), ("dismissed", "deleted")],
)
def test_pull_request_review(action, expected):
    payload = fixture_payload("pull_request_review.submitted")
    payload["action"] = action
    payload["review"]["user"] = user("reviewer")
    payload["review"]["body"] = "/approve"
    comment = synthesise("pull_request_review", payload)
    assert comment.action == expected
    assert comment.body == "/approve"
    assert comment.user == "reviewer"
    assert comment.is_pr is True
    assert comment.number == payload["pull_request"]["number"] == 2
    assert comment.html_url == payload["review"]["html_url"]
    assert comment.issue_author == "Codertocat"
    assert comment.issue_title == payload["pull_request"]["title"]
    assert comment.issue_html_url == payload["pull_request"]["html_url"]
    assert comment.comment_id is None
    assert (comment.org, comment.repo) == ("Codertocat", "Hello-World")


def test_a_review_without_a_body_has_an_empty_one():
    payload = fixture_payload("pull_request_review.dismissed")
    assert payload["review"]["body"] is None
    comment = synthesise("pull_request_review", payload)
    assert comment.action == "deleted"
    assert comment.body == ""


# ---------------------------------------------- pull_request_review_comment


@pytest.mark.parametrize("action", ["created", "edited", "deleted"])
def test_pull_request_review_comment(action):
    payload = fixture_payload(f"pull_request_review_comment.{action}")
    payload["comment"]["user"] = user("inline-commenter")
    payload["comment"]["body"] = "/hold"
    comment = synthesise("pull_request_review_comment", payload)
    assert comment.action == action
    assert comment.body == "/hold"
    assert comment.user == "inline-commenter"
    assert comment.is_pr is True
    assert comment.number == 2
    assert comment.html_url == payload["comment"]["html_url"]
    assert comment.comment_id == payload["comment"]["id"]
    assert comment.issue_author == payload["pull_request"]["user"]["login"]


# ------------------------------------------------------------- pull_request


@pytest.mark.parametrize(
    ("action", "expected"), [("opened", "created"), ("edited", "edited")]
)
def test_pull_request_description(action, expected):
    payload = fixture_payload("pull_request.opened")
    payload["action"] = action
    payload["pull_request"]["user"] = user("pr-author")
    payload["pull_request"]["body"] = "Fixes #1\n/kind bug"
    # Someone else edited the description: the user is still the author.
    payload["sender"] = user("maintainer")
    comment = synthesise("pull_request", payload)
    assert comment.action == expected
    assert comment.body == "Fixes #1\n/kind bug"
    assert comment.user == "pr-author"
    assert comment.issue_author == "pr-author"
    assert comment.is_pr is True
    assert comment.number == payload["pull_request"]["number"]
    assert comment.html_url == payload["pull_request"]["html_url"]
    assert comment.issue_body == comment.body
    assert comment.comment_id is None


def test_a_pull_request_without_a_description_has_an_empty_body():
    payload = fixture_payload("pull_request.opened.3")
    assert payload["pull_request"]["body"] is None
    assert synthesise("pull_request", payload).body == ""


@pytest.mark.parametrize(
    "action",
    [
        "labeled",
        "unlabeled",
        "synchronize",
        "closed",
        "reopened",
        "assigned",
        "ready_for_review",
        "converted_to_draft",
        "review_requested",
    ],
)
def test_other_pull_request_actions_produce_no_generic_comment(action):
    payload = fixture_payload("pull_request.opened")
    payload["action"] = action
    assert synthesise("pull_request", payload) is None


# ------------------------------------------------------------------- issues


@pytest.mark.parametrize(
    ("action", "expected"), [("opened", "created"), ("edited", "edited")]
)
def test_issue_description(action, expected):
    payload = fixture_payload("issues.opened")
    payload["action"] = action
    payload["issue"]["user"] = user("reporter")
    payload["issue"]["body"] = "/kind bug\n/priority important-soon"
    comment = synthesise("issues", payload)
    assert comment.action == expected
    assert comment.body == "/kind bug\n/priority important-soon"
    assert comment.user == "reporter"
    assert comment.is_pr is False
    assert comment.number == 1
    assert comment.html_url == payload["issue"]["html_url"]
    assert comment.assignees == ("Codertocat",)


@pytest.mark.parametrize(
    "action", ["labeled", "unlabeled", "closed", "reopened", "deleted", "assigned"]
)
def test_other_issue_actions_produce_no_generic_comment(action):
    payload = fixture_payload("issues.opened")
    payload["action"] = action
    assert synthesise("issues", payload) is None


@pytest.mark.parametrize("kind", ["push", "status", "create", "ping"])
def test_events_without_text_produce_no_generic_comment(kind):
    assert synthesise(kind, fixture_payload(kind)) is None


# ------------------------------------------------------------------ helpers


def test_command_text_hides_code_blocks_and_html_comments():
    payload = comment_payload("created", on_pr=True)
    payload["comment"]["body"] = "<!-- /hold -->\n```\n/approve\n```\n/lgtm\r\n"
    comment = synthesise("issue_comment", payload)
    assert comment.command_text.strip() == "/lgtm"
    # The body itself is untouched, for quoting in replies.
    assert comment.body == payload["comment"]["body"]


def test_event_exposes_action_org_repo_and_sender():
    payload = comment_payload("edited", on_pr=False)
    payload["sender"] = user("editor")
    event = Event("issue_comment", GUID, payload)
    assert (event.action, event.org, event.repo, event.sender) == (
        "edited",
        "Codertocat",
        "Hello-World",
        "editor",
    )


def test_repo_of_falls_back_to_owner_and_name_then_organization():
    assert repo_of({"repository": {"owner": {"login": "o"}, "name": "r"}}) == (
        "o",
        "r",
    )
    assert repo_of({"organization": {"login": "o"}}) == ("o", "")
    assert repo_of({}) == ("", "")


def test_login_of_tolerates_missing_users():
    assert login_of(None) == ""
    assert login_of({"login": None}) == ""
    assert login_of({"login": "a"}) == "a"
