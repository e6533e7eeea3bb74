"""lgtm through /hook: comments, reviews and pushes put the label on and take
it off, and GitHub is told exactly what changed (and nothing else)."""

import copy
import textwrap

import pytest

from hook.models import WebhookDelivery
from hook.plugins.lgtm import (
    NOT_COLLABORATOR,
    NOT_IN_OWNERS,
    REMOVED_NOTE,
    SELF_LGTM,
    TREE_HASH_NOTE,
)
from hook.services import RetryLater, delivery_dispatch, delivery_replay
from prow.config.validation import validate
from prow.github.bot import ABOUT_BOT
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

ORG, REPO, PR = "acme", "app", 5
BOT = "prow-bot"
AUTHOR = "author"
HEAD = "a" * 40
NEW_HEAD = "c" * 40
TREE = "f" * 40
URL = f"https://github.com/{ORG}/{REPO}/pull/{PR}#issuecomment-1"
# collab1 is a collaborator and an assignee already, collab2 a collaborator
# only, assignee1 an assignee who is not a collaborator.
ASSIGNEES = ("collab1", "assignee1")
OWNERS = "reviewers: [sam, alice]\napprovers: [jessica]\n"


@pytest.fixture(autouse=True)
def github(fake_github, clean_broker, private_cache):
    fake = fake_github
    fake.add_repo(ORG, REPO)
    fake.add_label(ORG, REPO, "lgtm")
    for login in ("collab1", "collab2"):
        fake.add_collaborator(ORG, REPO, login)
    for login in (AUTHOR, "assignee1", "sam", "jessica", "not-in-the-org"):
        fake.add_user(login)
    fake.set_file(ORG, REPO, "OWNERS", "approvers: [jessica]\n")
    fake.set_file(ORG, REPO, "doc/OWNERS", OWNERS)
    fake.set_commit_tree(ORG, REPO, HEAD, TREE)
    return fake


def enable(plugins_enabled, *, lgtm: str = "", owners: str = ""):
    extra = ""
    if lgtm:
        extra += f"lgtm:\n- repos: [{ORG}/{REPO}]\n" + textwrap.indent(lgtm, "  ")
    if owners:
        extra += f"owners:\n{textwrap.indent(owners, '  ')}"
    plugins_enabled({f"{ORG}/{REPO}": ["lgtm"]}, extra)


STORE = "store_tree_hash: true\n"


@pytest.fixture
def lgtm_on(plugins_enabled):
    enable(plugins_enabled)


def add_pull(fake, labels=(), assignees=ASSIGNEES, head=HEAD):
    pull = fake.add_pull(
        ORG,
        REPO,
        PR,
        AUTHOR,
        head,
        files=[{"filename": "doc/README.md", "status": "modified"}],
        labels=labels,
    )
    pull.assignees = list(assignees)
    return pull


def _repository(payload):
    payload["repository"]["full_name"] = f"{ORG}/{REPO}"
    payload["repository"]["name"] = REPO
    payload["repository"]["owner"]["login"] = ORG


def _people(logins):
    return [{"login": login, "type": "User"} for login in logins]


def comment_event(
    body, user, *, labels=(), assignees=ASSIGNEES, action="created", **issue
):
    payload = copy.deepcopy(fixture_payload("issue_comment.created"))
    _repository(payload)
    payload["action"] = action
    payload["issue"].update(
        number=PR,
        state=issue.pop("state", "open"),
        labels=[{"name": name} for name in labels],
        assignees=_people(assignees),
        pull_request={"url": f"https://api.github.com/repos/{ORG}/{REPO}/pulls/{PR}"},
    )
    if issue.pop("is_issue", False):
        payload["issue"].pop("pull_request")
    payload["issue"]["user"]["login"] = AUTHOR
    payload["comment"].update(body=body, html_url=URL)
    payload["comment"]["user"]["login"] = user
    payload["sender"]["login"] = user
    return payload


def _pull_payload(payload, labels, assignees, head, author=AUTHOR):
    pr = payload["pull_request"]
    pr.update(
        number=PR,
        state="open",
        merged=False,
        labels=[{"name": name} for name in labels],
        assignees=_people(assignees),
        requested_reviewers=[],
    )
    pr["user"]["login"] = author
    pr["head"]["sha"] = head
    pr["base"]["ref"] = "main"


def review_event(
    state, user, *, body="", labels=(), assignees=ASSIGNEES, action="submitted"
):
    payload = copy.deepcopy(fixture_payload("pull_request_review.submitted"))
    _repository(payload)
    payload["action"] = action
    _pull_payload(payload, labels, assignees, HEAD)
    review = payload["review"]
    review.update(state=state, body=body, html_url=f"{URL}-review")
    review["user"].update(login=user, type="Bot" if user.endswith("[bot]") else "User")
    payload["sender"]["login"] = user
    return payload


def push_event(labels=("lgtm",), head=NEW_HEAD, merged=False, author=AUTHOR):
    payload = copy.deepcopy(fixture_payload("pull_request.synchronize"))
    _repository(payload)
    payload["number"] = PR
    _pull_payload(payload, labels, ASSIGNEES, head, author)
    payload["pull_request"]["merged"] = merged
    payload["sender"]["login"] = author
    return payload


def post(post_webhook, kind, payload, guid=None):
    assert post_webhook(kind, payload, guid=guid).status_code == 200
    return WebhookDelivery.objects.order_by("-pk").first()


def deliver(post_webhook, kind, payload, guid=None):
    delivery = post(post_webhook, kind, payload, guid)
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.last_error
    return delivery


def writes(fake):
    """What the bot changed on GitHub: (method, path, body) of every write."""
    return [(r.method, r.path, r.body) for r in fake.requests() if r.method != "GET"]


def labels(fake):
    return fake.issue(ORG, REPO, PR).labels


def comments(fake):
    return [c.body for c in fake.comments(ORG, REPO, PR)]


def reply(user, text, body):
    quoted = "\n".join(f">{line}" for line in body.splitlines())
    return (
        f"@{user}: {text}\n\n<details>\n\nIn response to [this]({URL}):\n\n"
        f"{quoted}\n\n\n{ABOUT_BOT}\n</details>"
    )


ISSUE = f"/repos/{ORG}/{REPO}/issues/{PR}"
ADD_LABEL = ("POST", f"{ISSUE}/labels", {"labels": ["lgtm"]})
REMOVE_LABEL = ("DELETE", f"{ISSUE}/labels/lgtm", None)


def assigned(login):
    return ("POST", f"{ISSUE}/assignees", {"assignees": [login]})


# Comments: the original's table ---------------------------------------------------

# body, commenter, has lgtm, lgtm after, reply, assigned, review re-requested.
# With store_tree_hash on, as the original's table has it; a new LGTM then
# leaves the tree-hash note.
NOTE = TREE_HASH_NOTE.format(TREE)
COMMENT_CASES = [
    ("uh oh", "collab2", False, False, None, False, False),
    ("/lgtm", "collab1", False, True, NOTE, False, False),
    ("/LGTM", "collab1", False, True, NOTE, False, False),
    ("/lgtm", "collab1", True, True, None, False, False),
    ("/lgtm", AUTHOR, False, False, SELF_LGTM, False, False),
    ("/lgtm cancel", AUTHOR, True, False, None, False, True),
    ("/remove-lgtm", AUTHOR, True, False, None, False, True),
    ("/lgtm", "collab2", False, True, NOTE, True, False),
    ("/lgtm ", "collab2", False, True, NOTE, True, False),
    ("/lgtm no-issue", "collab2", False, True, NOTE, True, False),
    ("/lgtm no-issue \r", "collab2", False, True, NOTE, True, False),
    ("/lgtm", "not-in-the-org", False, False, NOT_COLLABORATOR, False, False),
    ("/lgtm cancel", "collab2", True, False, None, True, True),
    ("/remove-lgtm", "collab2", True, False, None, True, True),
    ("/lgtm cancel", "not-in-the-org", True, True, NOT_COLLABORATOR, False, False),
    ("/remove-lgtm", "not-in-the-org", True, True, NOT_COLLABORATOR, False, False),
    ("/lgtm cancel", "collab1", True, False, None, False, True),
    ("/remove-lgtm", "collab1", True, False, None, False, True),
    ("/lgtm cancel \r", "collab1", True, False, None, False, True),
    ("/remove-lgtm \r", "collab1", True, False, None, False, True),
    ("/lgtm cancel", "collab1", False, False, None, False, False),
    ("/remove-lgtm", "collab1", False, False, None, False, False),
    ("/lgtm", "assignee1", False, False, NOT_COLLABORATOR, False, False),
    ("looks good\n/lgtm\nthanks", "collab1", False, True, NOTE, False, False),
    ("```\n/lgtm\n```", "collab1", False, False, None, False, False),
    ("/lgtm\n/lgtm cancel", "collab1", False, True, NOTE, False, False),
]


@pytest.mark.parametrize(
    ("body", "user", "has", "after", "said", "assigns", "rerequests"), COMMENT_CASES
)
def test_comments(
    plugins_enabled,
    github,
    post_webhook,
    body,
    user,
    has,
    after,
    said,
    assigns,
    rerequests,
):
    enable(plugins_enabled, lgtm=STORE)
    start = ["lgtm"] if has else []
    add_pull(github, labels=start)
    github.clear_requests()
    deliver(post_webhook, "issue_comment", comment_event(body, user, labels=start))

    assert labels(github) == (["lgtm"] if after else [])
    expected = [] if said is None else [said]
    if said in (SELF_LGTM, NOT_COLLABORATOR):
        expected = [reply(user, said, body)]
    assert comments(github) == expected
    assert (assigned(user) in writes(github)) is assigns
    assert len([w for w in writes(github) if "/assignees" in w[1]]) == int(assigns)
    requested = github.pull(ORG, REPO, PR).requested_reviewers
    # GitHub refuses to ask the author, and assignee1 cannot review.
    assert bool(requested) is rerequests
    if rerequests:
        assert "collab1" in requested


def test_lgtm_by_a_collaborator_asks_github_exactly_this(lgtm_on, github, post_webhook):
    add_pull(github)
    github.clear_requests()
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "collab2"))
    assert writes(github) == [assigned("collab2"), ADD_LABEL]
    assert github.pull(ORG, REPO, PR).assignees == [*ASSIGNEES, "collab2"]


def test_lgtm_by_an_assignee_only_adds_the_label(lgtm_on, github, post_webhook):
    add_pull(github)
    github.clear_requests()
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "collab1"))
    assert writes(github) == [ADD_LABEL]


def test_cancel_without_store_tree_hash_only_removes_the_label(
    lgtm_on, github, post_webhook
):
    add_pull(github, labels=["lgtm"])
    github.clear_requests()
    payload = comment_event("/lgtm cancel", "collab1", labels=["lgtm"])
    deliver(post_webhook, "issue_comment", payload)
    assert writes(github) == [REMOVE_LABEL]
    assert github.pull(ORG, REPO, PR).requested_reviewers == []


@pytest.mark.parametrize(
    ("action", "state", "is_issue"),
    [
        ("edited", "open", False),
        ("deleted", "open", False),
        ("created", "closed", False),
        ("created", "open", True),
    ],
)
def test_only_new_comments_on_open_pull_requests(
    lgtm_on, github, post_webhook, action, state, is_issue
):
    add_pull(github)
    github.clear_requests()
    payload = comment_event(
        "/lgtm", "collab2", action=action, state=state, is_issue=is_issue
    )
    deliver(post_webhook, "issue_comment", payload)
    assert writes(github) == []


def test_a_new_lgtm_prunes_the_removal_notes_but_not_people_quoting_them(
    lgtm_on, github, post_webhook
):
    add_pull(github)
    old = github.add_comment(ORG, REPO, PR, BOT, REMOVED_NOTE)
    github.add_comment(ORG, REPO, PR, "collab1", f"> {REMOVED_NOTE}\nwhy?")
    github.clear_requests()
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "collab1"))
    assert writes(github) == [
        ADD_LABEL,
        ("DELETE", f"/repos/{ORG}/{REPO}/issues/comments/{old.id}", None),
    ]
    assert comments(github) == [f"> {REMOVED_NOTE}\nwhy?"]


def test_lgtm_with_store_tree_hash_leaves_the_tree_of_the_head(
    plugins_enabled, github, post_webhook
):
    enable(plugins_enabled, lgtm=STORE)
    add_pull(github)
    github.clear_requests()
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "collab1"))
    assert writes(github) == [
        ADD_LABEL,
        ("POST", f"{ISSUE}/comments", {"body": NOTE}),
    ]
    assert NOTE == (
        "LGTM label has been added.  <details>Git tree hash: " + TREE + "</details>"
    )
    assert github.requests("GET", f"/repos/{ORG}/{REPO}/commits/{HEAD}")


def test_cancel_with_store_tree_hash_prunes_the_tree_notes_and_asks_again(
    plugins_enabled, github, post_webhook
):
    enable(plugins_enabled, lgtm=STORE)
    add_pull(github, labels=["lgtm"])
    note = github.add_comment(ORG, REPO, PR, BOT, NOTE)
    github.clear_requests()
    payload = comment_event("/lgtm cancel", "collab1", labels=["lgtm"])
    deliver(post_webhook, "issue_comment", payload)
    assert writes(github) == [
        REMOVE_LABEL,
        (
            "POST",
            f"/repos/{ORG}/{REPO}/pulls/{PR}/requested_reviewers",
            {"reviewers": list(ASSIGNEES)},
        ),
        # GitHub refused the pair (assignee1 may not review): asked one by one.
        (
            "POST",
            f"/repos/{ORG}/{REPO}/pulls/{PR}/requested_reviewers",
            {"reviewers": ["collab1"]},
        ),
        (
            "POST",
            f"/repos/{ORG}/{REPO}/pulls/{PR}/requested_reviewers",
            {"reviewers": ["assignee1"]},
        ),
        ("DELETE", f"/repos/{ORG}/{REPO}/issues/comments/{note.id}", None),
    ]
    assert github.pull(ORG, REPO, PR).requested_reviewers == ["collab1"]


# skip_collaborators: OWNERS decide ---------------------------------------------

SKIP = f"skip_collaborators: [{ORG}/{REPO}]\n"


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("sam", True),  # a reviewer of doc/, not a collaborator
        ("jessica", True),  # an approver, of the root
        ("collab2", False),  # a collaborator is not enough here
        ("not-in-the-org", False),
    ],
)
def test_skip_collaborators_asks_the_owners_files(
    plugins_enabled, github, post_webhook, user, allowed
):
    enable(plugins_enabled, owners=SKIP)
    add_pull(github)
    github.clear_requests()
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", user))
    if allowed:
        # Nobody is assigned: OWNERS, not assignment, grant the right.
        assert writes(github) == [ADD_LABEL]
    else:
        assert labels(github) == []
        assert comments(github) == [reply(user, NOT_IN_OWNERS, "/lgtm")]
        assert len(writes(github)) == 1


def test_skip_collaborators_for_the_whole_org(plugins_enabled, github, post_webhook):
    enable(plugins_enabled, owners=f"skip_collaborators: [{ORG}]\n")
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "sam"))
    assert labels(github) == ["lgtm"]


def test_skip_collaborators_reads_the_configured_owners_file(
    plugins_enabled, github, post_webhook
):
    filenames = f'filenames:\n  "{ORG}/{REPO}": {{owners: REVIEWERS}}\n'
    enable(plugins_enabled, owners=SKIP + filenames)
    github.set_file(ORG, REPO, "REVIEWERS", "reviewers: [collab2]\n")
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "collab2"))
    assert labels(github) == ["lgtm"]
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "sam"))
    assert comments(github) == [reply("sam", NOT_IN_OWNERS, "/lgtm")]


# Reviews ------------------------------------------------------------------------

ACTS = "review_acts_as_lgtm: true\n"


@pytest.mark.parametrize(
    ("config", "state", "user", "body", "action", "has", "after"),
    [
        (ACTS, "approved", "collab1", "", "submitted", False, True),
        (ACTS, "approved", "collab1", "nice work", "submitted", False, True),
        (ACTS, "changes_requested", "collab1", "", "submitted", True, False),
        (ACTS, "commented", "collab1", "", "submitted", False, False),
        (ACTS, "commented", "collab1", "", "submitted", True, True),
        (ACTS, "approved", "collab1", "", "edited", False, False),
        (ACTS, "changes_requested", "collab1", "", "dismissed", True, True),
        ("", "approved", "collab1", "", "submitted", False, False),
        ("", "changes_requested", "collab1", "", "submitted", True, True),
        (ACTS, "approved", "dependabot[bot]", "", "submitted", False, False),
        # The text is a command: the comment handler reads it (once).
        (ACTS, "changes_requested", "collab1", "/lgtm", "submitted", False, True),
        (ACTS, "approved", "collab1", "/lgtm cancel", "submitted", True, False),
    ],
)
def test_reviews(
    plugins_enabled,
    github,
    post_webhook,
    config,
    state,
    user,
    body,
    action,
    has,
    after,
):
    enable(plugins_enabled, lgtm=config)
    start = ["lgtm"] if has else []
    add_pull(github, labels=start)
    github.clear_requests()
    payload = review_event(state, user, body=body, labels=start, action=action)
    deliver(post_webhook, "pull_request_review", payload)
    assert labels(github) == (["lgtm"] if after else [])
    assert comments(github) == []
    assert len([w for w in writes(github) if "/labels" in w[1]]) == int(has != after)


def test_the_author_approving_is_told_off(plugins_enabled, github, post_webhook):
    enable(plugins_enabled, lgtm=ACTS)
    add_pull(github)
    deliver(post_webhook, "pull_request_review", review_event("approved", AUTHOR))
    (said,) = comments(github)
    assert said.startswith(f"@{AUTHOR}: {SELF_LGTM}\n\n<details>")
    assert f"In response to [this]({URL}-review)" in said
    assert labels(github) == []


def test_a_stranger_approving_is_told_who_may(plugins_enabled, github, post_webhook):
    enable(plugins_enabled, lgtm=ACTS)
    add_pull(github)
    payload = review_event("approved", "not-in-the-org", body="LGTM!")
    deliver(post_webhook, "pull_request_review", payload)
    (said,) = comments(github)
    assert said.startswith(f"@not-in-the-org: {NOT_COLLABORATOR}\n\n<details>")
    assert ">LGTM!" in said
    assert labels(github) == []


# Pushes -------------------------------------------------------------------------

REMOVED = f"{REMOVED_NOTE}\n<!-- lgtm removed for {NEW_HEAD} -->"


def test_a_push_removes_the_label_with_the_originals_note(
    lgtm_on, github, post_webhook
):
    add_pull(github, labels=["lgtm"], head=NEW_HEAD)
    github.clear_requests()
    deliver(post_webhook, "pull_request", push_event())
    assert writes(github) == [
        REMOVE_LABEL,
        ("POST", f"{ISSUE}/comments", {"body": REMOVED}),
    ]
    # The marker is an HTML comment: people see the original's sentence only.
    assert comments(github)[0].splitlines()[0] == (
        "New changes are detected. LGTM label has been removed."
    )


@pytest.mark.parametrize(
    ("labels_", "merged", "action"),
    [((), False, "synchronize"), (("lgtm",), True, "synchronize")]
    + [(("lgtm",), False, a) for a in ("opened", "edited", "labeled", "reopened")],
)
def test_pushes_that_change_nothing(
    lgtm_on, github, post_webhook, labels_, merged, action
):
    add_pull(github, labels=labels_, head=NEW_HEAD)
    github.clear_requests()
    payload = push_event(labels=labels_, merged=merged)
    payload["action"] = action
    deliver(post_webhook, "pull_request", payload)
    assert writes(github) == []


def seed_tree_note(github, tree, *, edited=False):
    note = github.add_comment(ORG, REPO, PR, BOT, TREE_HASH_NOTE.format(tree))
    if edited:
        note.updated_at = "2099-01-01T00:00:00Z"
    return note


@pytest.mark.parametrize(
    ("notes", "new_tree", "kept"),
    [
        ([(TREE, False)], TREE, True),  # squashed: same tree
        ([(TREE, False)], "e" * 40, False),  # new code
        ([], TREE, False),  # no note to compare with
        ([(TREE, True)], TREE, False),  # the note was edited: not trusted
        ([("d" * 40, False), (TREE, False)], TREE, True),  # the newest counts
        ([(TREE, False), ("d" * 40, False)], TREE, False),
    ],
)
def test_store_tree_hash_keeps_the_label_when_the_tree_is_the_same(
    plugins_enabled, github, post_webhook, notes, new_tree, kept
):
    enable(plugins_enabled, lgtm=STORE)
    add_pull(github, labels=["lgtm"], head=NEW_HEAD)
    github.set_commit_tree(ORG, REPO, NEW_HEAD, new_tree)
    for tree, edited in notes:
        seed_tree_note(github, tree, edited=edited)
    github.clear_requests()
    deliver(post_webhook, "pull_request", push_event())
    assert labels(github) == (["lgtm"] if kept else [])
    if kept:
        assert writes(github) == []
    else:
        assert comments(github)[-1] == REMOVED
        assert github.pull(ORG, REPO, PR).requested_reviewers == ["collab1"]


@pytest.mark.parametrize(("member", "kept"), [(True, True), (False, False)])
def test_sticky_team_keeps_its_members_lgtm(
    plugins_enabled, github, post_webhook, member, kept
):
    enable(plugins_enabled, lgtm="trusted_team_for_sticky_lgtm: core\n")
    github.add_team(ORG, "core", members=[AUTHOR] if member else ["collab1"])
    add_pull(github, labels=["lgtm"], head=NEW_HEAD)
    github.clear_requests()
    deliver(post_webhook, "pull_request", push_event())
    assert labels(github) == (["lgtm"] if kept else [])
    assert comments(github) == ([] if kept else [REMOVED])


def test_sticky_team_member_gets_no_tree_note(plugins_enabled, github, post_webhook):
    enable(plugins_enabled, lgtm=STORE + "trusted_team_for_sticky_lgtm: core\n")
    github.add_team(ORG, "core", members=[AUTHOR])
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "collab1"))
    assert labels(github) == ["lgtm"]
    assert comments(github) == []


# Redelivery and retries -----------------------------------------------------------


def test_a_redelivered_lgtm_changes_nothing(plugins_enabled, github, post_webhook):
    enable(plugins_enabled, lgtm=STORE)
    add_pull(github)
    payload = comment_event("/lgtm", "collab2")
    deliver(post_webhook, "issue_comment", payload, guid="lgtm-1")
    github.clear_requests()
    delivery = post(post_webhook, "issue_comment", payload, guid="lgtm-1")
    delivery_dispatch(delivery.pk)
    assert github.requests() == []
    # Handled again on purpose, every plugin anew: still one note, one label.
    delivery_replay(delivery, rerun_all=True)
    delivery_dispatch(delivery.pk)
    assert labels(github) == ["lgtm"]
    assert comments(github) == [NOTE]
    assert not [w for w in writes(github) if w[0] in ("DELETE", "PATCH")]
    assert not github.requests("POST", f"{ISSUE}/comments")


def test_a_second_lgtm_after_the_first_changes_nothing(
    plugins_enabled, github, post_webhook
):
    enable(plugins_enabled, lgtm=STORE)
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "collab2"))
    github.clear_requests()
    payload = comment_event(
        "/lgtm", "collab2", labels=["lgtm"], assignees=[*ASSIGNEES, "collab2"]
    )
    deliver(post_webhook, "issue_comment", payload)
    assert writes(github) == []
    assert comments(github) == [NOTE]


def test_a_push_handled_twice_notes_once(lgtm_on, github, post_webhook):
    add_pull(github, labels=["lgtm"], head=NEW_HEAD)
    delivery = deliver(post_webhook, "pull_request", push_event())
    github.clear_requests()
    delivery_replay(delivery, rerun_all=True)
    delivery_dispatch(delivery.pk)
    assert comments(github) == [REMOVED]
    assert labels(github) == []
    assert not github.requests("POST")


def test_a_failed_note_is_posted_once_after_the_retry(
    plugins_enabled, github, post_webhook
):
    enable(plugins_enabled, lgtm=STORE)
    add_pull(github)
    github.fail_next("POST", f"^{ISSUE}/comments$", status=502)
    delivery = post(post_webhook, "issue_comment", comment_event("/lgtm", "collab2"))
    with pytest.raises(RetryLater):
        delivery_dispatch(delivery.pk)
    assert labels(github) == ["lgtm"]
    assert comments(github) == []
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DONE
    assert labels(github) == ["lgtm"]
    assert comments(github) == [NOTE]
    assert github.pull(ORG, REPO, PR).assignees == [*ASSIGNEES, "collab2"]


def test_a_rate_limited_push_removes_and_notes_once_after_the_retry(
    lgtm_on, github, post_webhook
):
    add_pull(github, labels=["lgtm"], head=NEW_HEAD)
    # Longer than the client waits in line: the delivery is retried later.
    github.rate_limit_next(retry_after=600, path_regex=f"^{ISSUE}/comments$")
    delivery = post(post_webhook, "pull_request", push_event())
    with pytest.raises(RetryLater):
        delivery_dispatch(delivery.pk)
    github.reset_rate_limit()
    delivery_dispatch(delivery.pk)
    assert labels(github) == []
    assert comments(github) == [REMOVED]


def test_a_failed_cancel_completes_after_the_retry(
    plugins_enabled, github, post_webhook
):
    enable(plugins_enabled, lgtm=STORE)
    add_pull(github, labels=["lgtm"])
    note = github.add_comment(ORG, REPO, PR, BOT, NOTE)
    github.fail_next("DELETE", "/issues/comments/", status=502)
    payload = comment_event("/lgtm cancel", "collab1", labels=["lgtm"])
    delivery = post(post_webhook, "issue_comment", payload)
    with pytest.raises(RetryLater):
        delivery_dispatch(delivery.pk)
    assert labels(github) == []
    assert comments(github) == [note.body]
    delivery_dispatch(delivery.pk)
    assert comments(github) == []
    assert labels(github) == []


# Config and help ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugins", "line", "path", "message"),
    [
        (
            "lgtm:\n- repos: [acme/app/extra]\n",
            2,
            "lgtm[0].repos[0]",
            "is neither an org nor an org/repo",
        ),
        (
            "lgtm:\n- repos: [acme]\n  trusted_team_for_sticky_lgtm: 'Core Team'\n",
            3,
            "lgtm[0].trusted_team_for_sticky_lgtm",
            "is not a team slug",
        ),
        (
            "lgtm:\n- repos: [acme]\n  store_tree_hash: sometimes\n",
            3,
            "lgtm[0].store_tree_hash",
            "valid boolean",
        ),
    ],
)
def test_config_errors_name_their_line(plugins, line, path, message):
    result = validate("", plugins)
    assert not result.ok
    (error,) = [e for e in result.errors if e.path == path]
    assert message in error.message
    assert error.line == line


def test_config_warns_of_entries_that_never_apply():
    result = validate("", "lgtm:\n- repos: [acme]\n- repos: [acme]\n- {}\n")
    assert result.ok
    paths = {w.path for w in result.warnings}
    assert {"lgtm[1].repos[0]", "lgtm[2]"} <= paths


def test_defaults_are_the_originals(lgtm_on):
    from prow.config.active import active_config

    config = active_config().plugins.section("lgtm", ORG, REPO)
    assert (
        config.review_acts_as_lgtm,
        config.store_tree_hash,
        config.trusted_team_for_sticky_lgtm,
    ) == (False, False, "")


def test_help_lists_both_commands(lgtm_on, client):
    help_ = client.get("/plugin-help").json()["PluginHelp"]["lgtm"]
    usages = [c["Usage"] for c in help_["Commands"]]
    assert usages[0].startswith("/lgtm [no-issue]")
    assert "/remove-lgtm" in usages[1]
    assert help_["Events"] == ["generic_comment", "pull_request", "pull_request_review"]


def test_a_refused_assignment_does_not_stop_the_lgtm(lgtm_on, github, post_webhook):
    add_pull(github)
    github.fail_next("POST", f"^{ISSUE}/assignees$", status=403)
    deliver(post_webhook, "issue_comment", comment_event("/lgtm", "collab2"))
    assert labels(github) == ["lgtm"]
    assert github.pull(ORG, REPO, PR).assignees == list(ASSIGNEES)


def test_a_failed_assignment_is_retried_then_done_once(lgtm_on, github, post_webhook):
    add_pull(github)
    github.fail_next("POST", f"^{ISSUE}/assignees$", status=502)
    delivery = post(post_webhook, "issue_comment", comment_event("/lgtm", "collab2"))
    with pytest.raises(RetryLater):
        delivery_dispatch(delivery.pk)
    assert labels(github) == []
    delivery_dispatch(delivery.pk)
    assert labels(github) == ["lgtm"]
    assert github.pull(ORG, REPO, PR).assignees == [*ASSIGNEES, "collab2"]
    assert len(github.requests("POST", f"{ISSUE}/labels")) == 1


def test_a_prune_failing_after_the_note_does_not_post_it_twice(
    plugins_enabled, github, post_webhook
):
    enable(plugins_enabled, lgtm=STORE)
    add_pull(github)
    old = github.add_comment(ORG, REPO, PR, BOT, REMOVED_NOTE)
    github.fail_next("DELETE", f"/issues/comments/{old.id}$", status=502)
    delivery = post(post_webhook, "issue_comment", comment_event("/lgtm", "collab1"))
    with pytest.raises(RetryLater):
        delivery_dispatch(delivery.pk)
    assert comments(github) == [REMOVED_NOTE, NOTE]
    delivery_dispatch(delivery.pk)
    assert comments(github) == [NOTE]
    assert labels(github) == ["lgtm"]
