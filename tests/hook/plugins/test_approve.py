"""approve through /hook: the history of a pull request decides the
`approved` label and the one [APPROVALNOTIFIER] comment, and GitHub is told
exactly what changed, once.

The OWNERS files are the original's test repository's: a/ (alice), a/b/
(bob, below alice), c/ (cblecker, cjwagner), e/ (spxtr) and d/, whose
subfolders without OWNERS files of their own need no approval.
"""

import copy
import logging
import textwrap
from dataclasses import dataclass, field

import pytest

from hook.approvers import Approvers, ChangedFiles
from hook.models import WebhookDelivery
from hook.owners import OwnersReader
from hook.plugins.approve import associated_issue, is_approval_command, plugin
from hook.plugins.base import PluginContext
from hook.services import RetryLater, delivery_dispatch
from prow.config.active import active_config
from prow.config.validation import validate
from prow.github import transport
from prow.github.client import github_client
from tests.fakes.github import SECONDARY_RATE_LIMIT_MESSAGE
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

ORG, REPO, PR = "org", "repo", 1
BASE = "master"
AUTHOR = "cjwagner"
BOT = "prow-bot"
HEAD = "a" * 40
PR_URL = f"https://github.com/{ORG}/{REPO}/pull/{PR}"
LINK = f"https://github.com/{ORG}/{REPO}/blob/{BASE}"
HELP = "https://go.k8s.io/bot-commands?repo=org%2Frepo"
PROCESS = (
    "https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process"
)
OWNERS_FILES = {
    "a/OWNERS": "approvers: [alice]\n",
    "a/b/OWNERS": "approvers: [bob]\n",
    "c/OWNERS": "approvers: [cblecker, cjwagner]\n",
    "d/OWNERS": "approvers: [dave]\noptions:\n  auto_approve_unowned_subfolders: true\n",
    "e/OWNERS": "approvers: [spxtr]\n",
}
PEOPLE = ("alice", "bob", "cblecker", "cjwagner", "dave", "spxtr")
DETAILS_END = (
    "\nApprovers can indicate their approval by writing `/approve` in a comment\n"
    "Approvers can cancel approval by writing `/approve cancel` in a comment\n"
    "</details>\n"
)


@pytest.fixture(autouse=True)
def github(fake_github, clean_broker, private_cache):
    fake = fake_github
    fake.add_repo(ORG, REPO, default_branch=BASE)
    fake.add_label(ORG, REPO, "approved")
    for login in PEOPLE:
        fake.add_collaborator(ORG, REPO, login)
    for path, text in OWNERS_FILES.items():
        fake.set_file(ORG, REPO, path, text)
    return fake


def enable(plugins_enabled, approve: str = "", owners: str = "") -> None:
    extra = f"approve:\n- repos: [{ORG}/{REPO}]\n" + textwrap.indent(
        approve or "issue_required: false\n", "  "
    )
    if owners:
        extra += f"owners:\n{textwrap.indent(owners, '  ')}"
    plugins_enabled({f"{ORG}/{REPO}": ["approve"]}, extra)


def add_pull(fake, files, *, labels=(), body="", assignees=("spxtr",)):
    pull = fake.add_pull(
        ORG,
        REPO,
        PR,
        AUTHOR,
        HEAD,
        base_ref=BASE,
        body=body,
        files=[{"filename": name, "status": "modified"} for name in files],
        labels=labels,
    )
    pull.assignees = list(assignees)
    return pull


# Webhooks ---------------------------------------------------------------------------


def _at_repo(payload: dict) -> dict:
    payload["repository"]["full_name"] = f"{ORG}/{REPO}"
    payload["repository"]["name"] = REPO
    payload["repository"]["owner"]["login"] = ORG
    return payload


def _pull_payload(fake) -> dict:
    pull = fake.pull(ORG, REPO, PR)
    payload = copy.deepcopy(fixture_payload("pull_request.opened")["pull_request"])
    payload.update(
        number=PR,
        state=pull.state,
        body=pull.body,
        html_url=PR_URL,
        labels=[{"name": name} for name in pull.labels],
        assignees=[{"login": login, "type": "User"} for login in pull.assignees],
    )
    payload["user"]["login"] = AUTHOR
    payload["head"].update(sha=HEAD, ref="feature")
    payload["base"].update(ref=BASE, sha="b" * 40)
    return payload


def pr_event(fake, action: str, sender: str = AUTHOR, **extra) -> dict:
    payload = _at_repo(copy.deepcopy(fixture_payload("pull_request.opened")))
    payload.update(action=action, number=PR, pull_request=_pull_payload(fake))
    payload["sender"]["login"] = sender
    payload.update(extra)
    return payload


def comment_event(fake, body: str, user: str, *, state: str = "open") -> dict:
    """The webhook of a comment the test put on the pull request already."""
    pull = fake.pull(ORG, REPO, PR)
    payload = _at_repo(copy.deepcopy(fixture_payload("issue_comment.created")))
    issue = payload["issue"]
    issue.update(
        number=PR,
        state=state,
        body=pull.body,
        html_url=PR_URL,
        labels=[{"name": name} for name in pull.labels],
        assignees=[{"login": login} for login in pull.assignees],
    )
    issue["user"]["login"] = AUTHOR
    issue["pull_request"] = {
        "url": f"https://api.github.com/repos/{ORG}/{REPO}/pulls/1"
    }
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = user
    payload["sender"]["login"] = user
    return payload


def review_event(fake, state: str, user: str, body: str = "", action="submitted"):
    payload = _at_repo(copy.deepcopy(fixture_payload("pull_request_review.submitted")))
    payload.update(action=action, pull_request=_pull_payload(fake))
    payload["review"].update(state=state.lower(), body=body)
    payload["review"]["user"].update(login=user, type="User")
    payload["sender"]["login"] = user
    return payload


def post(post_webhook, kind: str, payload: dict) -> int:
    assert post_webhook(kind, payload).status_code == 200
    return WebhookDelivery.objects.order_by("-pk").first().pk


def handle(delivery_id: int) -> WebhookDelivery:
    delivery_dispatch(delivery_id)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.last_error
    return delivery


def deliver(post_webhook, kind: str, payload: dict) -> WebhookDelivery:
    return handle(post(post_webhook, kind, payload))


def say(fake, post_webhook, user: str, body: str) -> WebhookDelivery:
    """user comments body on the pull request, and GitHub tells /hook."""
    fake.add_comment(ORG, REPO, PR, user, body)
    return deliver(post_webhook, "issue_comment", comment_event(fake, body, user))


# What GitHub was told -----------------------------------------------------------------


def writes(fake) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in fake.requests()
        if r.method != "GET" and r.status is not None and r.status < 400
    ]


def asked(fake) -> list[tuple[str, str]]:
    """Requests besides learning the bot's own login."""
    return [(r.method, r.path) for r in fake.requests() if r.path != "/user"]


def notifications(fake) -> list[str]:
    return [
        c.body
        for c in fake.comments(ORG, REPO, PR)
        if c.author == BOT and c.body.startswith("[APPROVALNOTIFIER]")
    ]


def notification(fake) -> str:
    (body,) = notifications(fake)
    return body


def labels(fake) -> list[str]:
    return fake.issue(ORG, REPO, PR).labels


COMMENTS = f"/repos/{ORG}/{REPO}/issues/{PR}/comments"
LABELS = f"/repos/{ORG}/{REPO}/issues/{PR}/labels"
APPROVED_LABEL = f"{LABELS}/approved"


# The original's cases ---------------------------------------------------------------


@dataclass
class Case:
    name: str
    files: list[str]
    # (kind, author, body, review state); kind "comment" or "review"
    history: list[tuple[str, str, str, str]] = field(default_factory=list)
    config: str = ""
    body: str = ""
    labels: tuple[str, ...] = ()
    # Who put `approved` on, if it is on already
    labeled_by: str = ""
    approved: bool = False
    # Lines the notification must hold
    says: tuple[str, ...] = ()
    # Lines it must not hold
    not_says: tuple[str, ...] = ()


SELF = "require_self_approval: false\n"
NO_SELF = "require_self_approval: true\n"
NO_REVIEWS = "ignore_review_state: true\n"


def _by(login: str, how: str, url: str) -> str:
    return f'*<a href="{url}" title="{how}">{login}</a>*'


CASES = [
    Case(
        "author self-approves what they own",
        ["c/c.go"],
        config=SELF,
        approved=True,
        says=(
            "This pull-request has been approved by: "
            + _by("cjwagner", "Author self-approved", PR_URL + "#"),
            f"- ~~[c/OWNERS]({LINK}/c/OWNERS)~~ [cjwagner]",
        ),
    ),
    Case(
        "no approval yet",
        ["a/a.go"],
        config=NO_SELF,
        says=(
            "This pull-request has been approved by:",
            "**Once this PR has been reviewed and has the lgtm label**, please assign "
            "[alice](https://github.com/alice) for approval. For more information "
            f"see [the Code Review Process]({PROCESS}).",
            f"- **[a/OWNERS]({LINK}/a/OWNERS)**",
        ),
    ),
    Case(
        "an assignee who may approve is asked, the rest suggested",
        ["a/a.go", "e/e.go"],
        config=NO_SELF,
        says=(
            "**Once this PR has been reviewed and has the lgtm label**, please ask "
            "for approval from [spxtr](https://github.com/spxtr) and additionally "
            "assign [alice](https://github.com/alice) for approval. For more "
            f"information see [the Code Review Process]({PROCESS}).",
            '<!-- META={"approvers":["alice","spxtr"]} -->',
        ),
    ),
    Case(
        "no-issue approval waives the issue",
        ["a/a.go"],
        [("comment", "Alice", "stuff\n/approve no-issue \nmore stuff", "")],
        config=NO_SELF + "issue_required: true\n",
        approved=True,
        says=("Associated issue requirement bypassed by: *<a href=",),
    ),
    Case(
        "issue named in the body",
        ["a/a.go"],
        [("comment", "Alice", "stuff\n/approve", "")],
        config=NO_SELF + "issue_required: true\n",
        body="some changes that fix #42.\n/assign",
        approved=True,
        says=("Associated issue: *#42*",),
    ),
    Case(
        "self approval without an issue is not enough",
        ["a/a.go", "c/c.go"],
        [("comment", "ALIcE", "stuff\n/approve", "")],
        config=SELF + "issue_required: true\n",
        says=(
            "*No associated issue*. Update pull-request body to add a reference to "
            "an issue, or get approval with `/approve no-issue`",
            f"- ~~[a/OWNERS]({LINK}/a/OWNERS)~~ [ALIcE]",
        ),
    ),
    Case(
        "the author's no-issue approval and another approver's",
        ["a/a.go", "c/c.go"],
        [
            ("comment", "ALIcE", "stuff\n/approve", ""),
            ("comment", "cjwagner", "stuff\n/approve no-issue", ""),
        ],
        config=NO_SELF + "issue_required: true\n",
        approved=True,
    ),
    Case(
        "/approve cancel takes an approval back",
        ["a/a.go"],
        [
            ("comment", "Alice", "/approve no-issue", ""),
            ("comment", "Alice", "stuff\n/approve cancel \nmore stuff", ""),
        ],
        config=SELF,
        labels=("approved",),
        labeled_by=BOT,
        says=(
            "This pull-request has been approved by: "
            + _by("cjwagner", "Author self-approved", PR_URL + "#"),
        ),
    ),
    Case(
        "/remove-approve takes an approval back",
        ["a/a.go"],
        [
            ("comment", "Alice", "/approve", ""),
            ("comment", "Alice", "/remove-approve", ""),
        ],
        labels=("approved",),
        labeled_by=BOT,
    ),
    Case(
        "the author cancels their implicit approval",
        ["c/c.go"],
        [("comment", "cjwagner", "/approve cancel", "")],
        config=SELF,
        labels=("approved",),
        labeled_by=BOT,
    ),
    Case(
        "a person's approved label stays",
        ["a/a.go"],
        config=NO_SELF,
        labels=("approved",),
        labeled_by="a-human",
        approved=True,
        says=(
            "Approval requirements bypassed by manually added approval.",
            f"- **[a/OWNERS]({LINK}/a/OWNERS)**",
        ),
        not_says=("**Once this PR has been reviewed",),
    ),
    Case(
        "lgtm means approve",
        ["a/a.go", "a/aa.go"],
        [("comment", "alice", "stuff\n/lgtm\nblah", "")],
        config=NO_SELF + "lgtm_acts_as_approve: true\n",
        approved=True,
        says=(_by("alice", "LGTM", "URL"),),
    ),
    Case(
        "lgtm does not mean approve",
        ["a/a.go"],
        [("comment", "alice", "stuff\n/lgtm\nblah", "")],
        config=NO_SELF,
    ),
    Case(
        "/approve in a review's text",
        ["a/a.go"],
        [("review", "Alice", "stuff\n/approve", "COMMENTED")],
        config=NO_SELF,
        approved=True,
    ),
    Case(
        "an approving review approves",
        ["a/a.go"],
        [("review", "alice", "", "APPROVED")],
        config=NO_SELF,
        approved=True,
    ),
    Case(
        "an approving review does not when review state is ignored",
        ["a/a.go"],
        [("review", "alice", "", "APPROVED")],
        config=NO_SELF + NO_REVIEWS,
    ),
    Case(
        "a commenting review does not approve",
        ["a/a.go"],
        [("review", "alice", "looks fine", "COMMENTED")],
        config=NO_SELF,
    ),
    Case(
        "requesting changes cancels an approval",
        ["a/a.go"],
        [
            ("comment", "alice", "/approve", ""),
            ("review", "alice", "", "CHANGES_REQUESTED"),
        ],
        config=NO_SELF,
    ),
    Case(
        "a dismissed review does not cancel an approval",
        ["a/a.go"],
        [
            ("comment", "alice", "/approve", ""),
            ("review", "alice", "", "DISMISSED"),
        ],
        config=NO_SELF,
        approved=True,
    ),
    Case(
        "/approve cancel after an approving review",
        ["a/a.go"],
        [
            ("review", "alice", "", "APPROVED"),
            ("comment", "alice", "/approve cancel", ""),
        ],
        config=NO_SELF,
    ),
    Case(
        "/approve after requesting changes",
        ["a/a.go"],
        [
            ("review", "alice", "", "CHANGES_REQUESTED"),
            ("comment", "alice", "/approve", ""),
        ],
        config=NO_SELF,
        approved=True,
    ),
    Case(
        "a parent's approver approves the subdirectory",
        ["a/b/b.go"],
        [("comment", "alice", "/approve", "")],
        config=NO_SELF,
        approved=True,
        says=(f"- ~~[a/b/OWNERS]({LINK}/a/b/OWNERS)~~ [alice]",),
    ),
    Case(
        "a subdirectory's approver does not approve the parent",
        ["a/a.go", "a/b/b.go"],
        [("comment", "bob", "/approve", "")],
        config=NO_SELF,
        says=(f"- **[a/OWNERS]({LINK}/a/OWNERS)**",),
        not_says=("b/OWNERS",),
    ),
    Case(
        "unowned subfolder of an auto-approving OWNERS file",
        ["d/new-folder/new_file.go"],
        config=NO_SELF,
        approved=True,
    ),
    Case(
        "a file beside the auto-approving OWNERS file still needs approval",
        ["d/d.go"],
        config=NO_SELF,
        says=(f"- **[d/OWNERS]({LINK}/d/OWNERS)**",),
    ),
    Case(
        "an approval by the bot does not count",
        ["a/a.go"],
        [("comment", BOT, "/approve", "")],
        config=NO_SELF,
    ),
    Case(
        "/approve in a code block does not count",
        ["a/a.go"],
        [("comment", "alice", "try this:\n```\n/approve\n```", "")],
        config=NO_SELF,
    ),
    Case(
        "someone not in OWNERS approves nothing",
        ["a/a.go"],
        [("comment", "spxtr", "/approve", "")],
        config=NO_SELF,
        says=(f"- **[a/OWNERS]({LINK}/a/OWNERS)**",),
    ),
]


def _seed_history(fake, case: Case) -> None:
    for index, (kind, author, body, state) in enumerate(case.history):
        # Distinct times keep the replay's order the order given.
        at = f"2024-01-01T00:00:{index:02d}Z"
        if kind == "comment":
            fake.add_comment(ORG, REPO, PR, author, body).created_at = at
        else:
            fake.add_review(ORG, REPO, PR, author, state, body).submitted_at = at


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_originals_cases(fake_github, plugins_enabled, post_webhook, case):
    enable(plugins_enabled, case.config)
    fake = fake_github
    add_pull(fake, case.files, body=case.body)
    if case.labeled_by:
        fake.label_as(ORG, REPO, PR, case.labeled_by, "approved")
    _seed_history(fake, case)
    fake.clear_requests()

    deliver(post_webhook, "pull_request", pr_event(fake, "synchronize"))

    assert ("approved" in labels(fake)) is case.approved
    text = notification(fake)
    title = (
        "This PR is **APPROVED**" if case.approved else "This PR is **NOT APPROVED**"
    )
    assert text.startswith(f"[APPROVALNOTIFIER] {title}\n\n")
    for line in case.says:
        if "URL" in line:
            line = line.split('href="URL"')[1]
        assert line in text, line
    for line in case.not_says:
        assert line not in text, line
    # The label changed only if it had to, and once.
    label_writes = [w for w in writes(fake) if w[1].startswith(LABELS)]
    had = bool(case.labels or case.labeled_by)
    if had == case.approved:
        assert label_writes == []
    elif case.approved:
        assert label_writes == [("POST", LABELS)]
    else:
        assert label_writes == [("DELETE", APPROVED_LABEL)]


# The whole notification ------------------------------------------------------------


def test_the_notification_reads_as_the_originals(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go", "a/b/b.go", "c/c.go"], assignees=())
    approval = fake.add_comment(ORG, REPO, PR, "Alice", "/approve")

    deliver(post_webhook, "pull_request", pr_event(fake, "opened"))

    url = f"https://github.com/{ORG}/{REPO}/issues/{PR}#issuecomment-{approval.id}"
    text = notification(fake)
    # Alice covers a/ (and a/b/ below it); c/ has two approvers, and which of
    # them is suggested is fixed by the PR number.
    suggested = text.split("please assign [")[1].split("]")[0]
    assert suggested in ("cblecker", "cjwagner")
    assert text == (
        "[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\n"
        f"This pull-request has been approved by: {_by('Alice', 'Approved', url)}\n"
        "**Once this PR has been reviewed and has the lgtm label**, please assign "
        f"[{suggested}](https://github.com/{suggested}) for approval. For more "
        f"information see [the Code Review Process]({PROCESS}).\n\n"
        f"The full list of commands accepted by this bot can be found [here]({HELP}).\n\n"
        "<details open>\n"
        "Needs approval from an approver in each of these files:\n\n"
        f"- ~~[a/OWNERS]({LINK}/a/OWNERS)~~ [Alice]\n"
        f"- **[c/OWNERS]({LINK}/c/OWNERS)**\n"
        + DETAILS_END
        + f'<!-- META={{"approvers":["{suggested}"]}} -->'
    )


def test_an_approved_notification_is_closed_and_links_the_process(
    fake_github, plugins_enabled, post_webhook
):
    enable(
        plugins_enabled,
        SELF + "commandHelpLink: https://prow.example.com/command-help\n"
        "pr_process_link: https://example.com/process\n",
    )
    fake = fake_github
    add_pull(fake, ["c/c.go"])

    deliver(post_webhook, "pull_request", pr_event(fake, "opened"))

    assert notification(fake) == (
        "[APPROVALNOTIFIER] This PR is **APPROVED**\n\n"
        "This pull-request has been approved by: "
        f"{_by('cjwagner', 'Author self-approved', PR_URL + '#')}\n\n"
        "The full list of commands accepted by this bot can be found "
        "[here](https://prow.example.com/command-help?repo=org%2Frepo).\n\n"
        "The pull request process is described [here](https://example.com/process)\n\n"
        "<details >\n"
        "Needs approval from an approver in each of these files:\n\n"
        f"- ~~[c/OWNERS]({LINK}/c/OWNERS)~~ [cjwagner]\n"
        + DETAILS_END
        + '<!-- META={"approvers":[]} -->'
    )
    assert labels(fake) == ["approved"]


def test_suggestions_are_the_same_for_one_pull_request(fake_github):
    fake = fake_github
    owners = {
        "OWNERS": "approvers: [root]\n",
        **{f"p{i}/OWNERS": f"approvers: [p{i}a, p{i}b, p{i}c]\n" for i in range(4)},
    }
    for path, text in owners.items():
        fake.set_file(ORG, REPO, path, text)
    reader = OwnersReader.for_branch(github_client(ORG), ORG, REPO, BASE)
    files = [f"p{i}/x.go" for i in range(4)]

    def ccs(seed: int) -> list[str]:
        return Approvers(ChangedFiles(reader, files, seed)).ccs

    first = ccs(PR)
    assert first == ccs(PR)
    # One approver of each directory: the nearest OWNERS files' people.
    assert sorted(name[:2] for name in first) == ["p0", "p1", "p2", "p3"]
    # Other pull requests spread the load over other people.
    assert len({tuple(ccs(seed)) for seed in range(1, 30)}) > 1


# Triggers ---------------------------------------------------------------------------


def test_an_approve_comment_approves(fake_github, plugins_enabled, post_webhook):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.clear_requests()

    say(fake, post_webhook, "alice", "/approve")

    assert labels(fake) == ["approved"]
    assert writes(fake) == [("POST", COMMENTS), ("POST", LABELS)]
    assert fake.requests("POST", LABELS)[0].body == {"labels": ["approved"]}
    assert notification(fake).startswith("[APPROVALNOTIFIER] This PR is **APPROVED**")


def test_a_second_approval_rewrites_the_notification_once(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go", "e/e.go"])
    say(fake, post_webhook, "alice", "/approve")
    (first,) = [c for c in fake.comments(ORG, REPO, PR) if c.author == BOT]
    assert "NOT APPROVED" in first.body
    assert labels(fake) == []
    fake.clear_requests()

    say(fake, post_webhook, "spxtr", "/approve")

    # The old notification goes, one new one comes: never two at once.
    assert writes(fake) == [
        ("DELETE", f"/repos/{ORG}/{REPO}/issues/comments/{first.id}"),
        ("POST", COMMENTS),
        ("POST", LABELS),
    ]
    assert notification(fake).startswith("[APPROVALNOTIFIER] This PR is **APPROVED**")


def test_remove_approve_takes_the_label_off(fake_github, plugins_enabled, post_webhook):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    say(fake, post_webhook, "alice", "/approve")
    assert labels(fake) == ["approved"]

    say(fake, post_webhook, "alice", "/remove-approve")

    assert labels(fake) == []
    assert "NOT APPROVED" in notification(fake)


@pytest.mark.parametrize(
    "body, user, state",
    [
        ("looks good", "alice", "open"),  # no command
        ("/lgtm", "alice", "open"),  # lgtm is not approval here
        ("/approve", "alice", "closed"),  # closed pull request
        ("/approve", BOT, "open"),  # the bot itself
        ("/approvee", "alice", "open"),  # another command
    ],
)
def test_comments_that_are_no_approval_command_ask_nothing(
    fake_github, plugins_enabled, post_webhook, body, user, state
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.add_comment(ORG, REPO, PR, user, body)
    fake.clear_requests()

    deliver(post_webhook, "issue_comment", comment_event(fake, body, user, state=state))

    assert asked(fake) == []


def test_a_comment_on_an_issue_is_not_for_approve(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    fake.add_issue(ORG, REPO, number=2)
    payload = comment_event_on_issue("/approve")
    fake.clear_requests()

    deliver(post_webhook, "issue_comment", payload)

    assert asked(fake) == []


def comment_event_on_issue(body: str) -> dict:
    payload = _at_repo(copy.deepcopy(fixture_payload("issue_comment.created")))
    payload["issue"].update(number=2, state="open")
    payload["issue"].pop("pull_request", None)
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = "alice"
    return payload


def test_lgtm_comment_approves_when_it_acts_as_approve(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF + "lgtm_acts_as_approve: true\n")
    fake = fake_github
    add_pull(fake, ["a/a.go"])

    say(fake, post_webhook, "alice", "/lgtm")

    assert labels(fake) == ["approved"]
    assert 'title="LGTM">alice</a>' in notification(fake)


def test_an_approving_review_approves(fake_github, plugins_enabled, post_webhook):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.add_review(ORG, REPO, PR, "alice", "APPROVED")

    deliver(
        post_webhook, "pull_request_review", review_event(fake, "APPROVED", "alice")
    )

    assert labels(fake) == ["approved"]


def test_approve_on_a_line_of_the_diff_approves(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.add_review_comment(ORG, REPO, PR, "alice", "/approve", path="a/a.go")
    payload = _at_repo(
        copy.deepcopy(fixture_payload("pull_request_review_comment.created"))
    )
    payload.update(pull_request=_pull_payload(fake))
    payload["comment"].update(body="/approve")
    payload["comment"]["user"]["login"] = "alice"

    deliver(post_webhook, "pull_request_review_comment", payload)

    assert labels(fake) == ["approved"]
    assert "#discussion_r" in notification(fake)


def test_a_dismissed_approving_review_approves_no_more(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    review = fake.add_review(ORG, REPO, PR, "alice", "APPROVED")
    deliver(
        post_webhook, "pull_request_review", review_event(fake, "APPROVED", "alice")
    )
    assert labels(fake) == ["approved"]

    review.state = "DISMISSED"
    deliver(
        post_webhook,
        "pull_request_review",
        review_event(fake, "DISMISSED", "alice", action="dismissed"),
    )

    assert labels(fake) == []
    assert "NOT APPROVED" in notification(fake)


def test_requesting_changes_takes_the_approval_back(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.add_comment(
        ORG, REPO, PR, "alice", "/approve"
    ).created_at = "2024-01-01T00:00:00Z"
    fake.add_review(
        ORG, REPO, PR, "alice", "CHANGES_REQUESTED"
    ).submitted_at = "2024-01-01T00:00:01Z"
    fake.label_as(ORG, REPO, PR, BOT, "approved")

    deliver(
        post_webhook,
        "pull_request_review",
        review_event(fake, "CHANGES_REQUESTED", "alice"),
    )

    assert labels(fake) == []


@pytest.mark.parametrize(
    "state, config, user_type",
    [
        ("COMMENTED", NO_SELF, "User"),  # a comment only
        ("APPROVED", NO_SELF + NO_REVIEWS, "User"),  # reviews ignored
        ("APPROVED", NO_SELF, "Bot"),  # an app's review
    ],
)
def test_reviews_that_cannot_approve_ask_nothing(
    fake_github, plugins_enabled, post_webhook, state, config, user_type
):
    enable(plugins_enabled, config)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    payload = review_event(fake, state, "alice", "nice")
    payload["review"]["user"]["type"] = user_type
    fake.clear_requests()

    deliver(post_webhook, "pull_request_review", payload)

    assert asked(fake) == []


def test_a_review_saying_approve_is_reckoned_once(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.add_review(ORG, REPO, PR, "alice", "APPROVED", "/approve")
    fake.clear_requests()

    deliver(
        post_webhook,
        "pull_request_review",
        review_event(fake, "APPROVED", "alice", "/approve"),
    )

    # The comment handler reads the review's text; the review handler
    # leaves such a review to it.
    assert len(fake.requests("GET", f"/repos/{ORG}/{REPO}/pulls/{PR}/files")) == 1
    assert labels(fake) == ["approved"]


def _context() -> PluginContext:
    active = active_config()
    return PluginContext(
        org=ORG,
        repo=REPO,
        guid="guid",
        config=active.config,
        plugins=active.plugins,
        github=github_client(ORG),
        logger=logging.LoggerAdapter(logging.getLogger("test"), {}),
    )


@pytest.mark.parametrize("action", ["opened", "reopened", "synchronize"])
def test_pull_request_events_recompute(
    fake_github, plugins_enabled, post_webhook, action
):
    enable(plugins_enabled, SELF)
    fake = fake_github
    add_pull(fake, ["c/c.go"])

    deliver(post_webhook, "pull_request", pr_event(fake, action))

    assert labels(fake) == ["approved"]
    assert len(notifications(fake)) == 1


@pytest.mark.parametrize(
    "action, label, sender",
    [
        ("closed", "", AUTHOR),
        ("edited", "", AUTHOR),
        ("labeled", "lgtm", "a-human"),  # another label
        ("labeled", "approved", BOT),  # the bot's own doing
    ],
)
def test_other_pull_request_events_ask_nothing(
    fake_github, plugins_enabled, post_webhook, action, label, sender
):
    enable(plugins_enabled, SELF)
    fake = fake_github
    add_pull(fake, ["c/c.go"])
    extra = {"label": {"name": label}} if label else {}
    payload = pr_event(fake, action, sender=sender, **extra)
    fake.clear_requests()

    deliver(post_webhook, "pull_request", payload)

    assert writes(fake) == []


def test_a_person_labeling_approved_is_respected(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.label_as(ORG, REPO, PR, "release-lead", "approved")
    fake.clear_requests()

    deliver(
        post_webhook,
        "pull_request",
        pr_event(fake, "labeled", sender="release-lead", label={"name": "approved"}),
    )

    assert labels(fake) == ["approved"]
    assert writes(fake) == [("POST", COMMENTS)]
    text = notification(fake)
    assert text.startswith("[APPROVALNOTIFIER] This PR is **APPROVED**\n\n")
    assert "Approval requirements bypassed by manually added approval." in text
    assert fake.requests("GET", f"/repos/{ORG}/{REPO}/issues/{PR}/events")


def test_the_bots_own_label_goes_when_approval_does(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.label_as(ORG, REPO, PR, BOT, "approved")

    deliver(post_webhook, "pull_request", pr_event(fake, "synchronize"))

    assert labels(fake) == []


def test_approvals_survive_a_push(fake_github, plugins_enabled, post_webhook):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    say(fake, post_webhook, "alice", "/approve")
    fake.pull(ORG, REPO, PR).files.append({"filename": "a/b/b.go", "status": "added"})
    before = notification(fake)
    fake.clear_requests()

    deliver(post_webhook, "pull_request", pr_event(fake, "synchronize"))

    assert labels(fake) == ["approved"]
    # a/b/ is below a/, whose approver approved: nothing to say anew.
    assert notification(fake) == before
    assert writes(fake) == []


# OWNERS options -----------------------------------------------------------------------


def test_owners_not_collaborators_cannot_approve(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    fake.set_file(ORG, REPO, "f/OWNERS", "approvers: [outsider]\n")
    add_pull(fake, ["f/f.go"])

    say(fake, post_webhook, "outsider", "/approve")

    assert labels(fake) == []


def test_skip_collaborators_lets_owners_alone_decide(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF, owners=f"skip_collaborators: [{ORG}/{REPO}]\n")
    fake = fake_github
    fake.set_file(ORG, REPO, "f/OWNERS", "approvers: [outsider]\n")
    add_pull(fake, ["f/f.go"])
    fake.clear_requests()

    say(fake, post_webhook, "outsider", "/approve")

    assert labels(fake) == ["approved"]
    assert not fake.requests("GET", f"/repos/{ORG}/{REPO}/collaborators")


def test_aliases_filters_and_no_parent_owners(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    fake.add_collaborator(ORG, REPO, "gopher")
    fake.set_file(ORG, REPO, "OWNERS_ALIASES", "aliases:\n  go-team: [gopher]\n")
    fake.set_file(
        ORG,
        REPO,
        "g/OWNERS",
        "options:\n  no_parent_owners: true\nfilters:\n"
        "  '\\.go$':\n    approvers: [go-team]\n  '.*':\n    approvers: [spxtr]\n",
    )
    fake.set_file(ORG, REPO, "OWNERS", "approvers: [cblecker]\n")
    add_pull(fake, ["g/x.go", "g/README.md"], assignees=())

    say(fake, post_webhook, "cblecker", "/approve")
    # The root's approver is no approver below no_parent_owners.
    assert labels(fake) == []
    say(fake, post_webhook, "gopher", "/approve")
    # gopher's filter covers only .go files; spxtr covers every file.
    assert labels(fake) == []
    assert (
        f"- **[g/OWNERS]({LINK}/g/OWNERS)** [gopher]\n"
        "  > Need more approvers for rest parts.\n"
    ) in notification(fake)
    say(fake, post_webhook, "spxtr", "/approve")
    assert labels(fake) == ["approved"]


def test_other_owners_file_names(fake_github, plugins_enabled, post_webhook):
    enable(
        plugins_enabled,
        NO_SELF,
        owners=f"filenames:\n  {ORG}/{REPO}:\n    owners: OWNERS.prow\n",
    )
    fake = fake_github
    fake.set_file(ORG, REPO, "a/OWNERS.prow", "approvers: [spxtr]\n")
    add_pull(fake, ["a/a.go"])

    say(fake, post_webhook, "spxtr", "/approve")

    assert labels(fake) == ["approved"]
    assert f"[a/OWNERS.prow]({LINK}/a/OWNERS.prow)" in notification(fake)


# Redelivery and retries ------------------------------------------------------------


def test_a_redelivered_comment_changes_nothing(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.add_comment(ORG, REPO, PR, "alice", "/approve")
    payload = comment_event(fake, "/approve", "alice")
    deliver(post_webhook, "issue_comment", payload)
    assert labels(fake) == ["approved"]
    fake.clear_requests()

    deliver(post_webhook, "issue_comment", payload)  # GitHub sends it again

    assert writes(fake) == []
    assert len(notifications(fake)) == 1
    assert [e.event for e in fake.issue(ORG, REPO, PR).events] == ["labeled"]


@pytest.mark.parametrize(
    "method, path, times",
    [
        ("POST", COMMENTS, 1),  # writing the notification
        ("POST", LABELS, 1),  # adding the label
        # Reads are retried in line a few times first.
        ("GET", f"/repos/{ORG}/{REPO}/pulls/{PR}/reviews", 4),
        ("GET", f"/repos/{ORG}/{REPO}/contents/a/OWNERS", 4),
    ],
)
def test_a_github_error_mid_command_is_retried_and_done_once(
    fake_github, plugins_enabled, post_webhook, monkeypatch, method, path, times
):
    monkeypatch.setattr(transport, "_sleep", lambda seconds: None)
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go"])
    fake.add_comment(ORG, REPO, PR, "alice", "/approve")
    fake.fail_next(method, "^" + path + "$", status=502, times=times)
    payload = comment_event(fake, "/approve", "alice")
    delivery_id = post(post_webhook, "issue_comment", payload)

    with pytest.raises(RetryLater):
        delivery_dispatch(delivery_id)
    handle(delivery_id)

    assert labels(fake) == ["approved"]
    assert len(notifications(fake)) == 1
    assert [e.event for e in fake.issue(ORG, REPO, PR).events] == ["labeled"]
    done = [r for r in fake.requests("POST") if r.status is not None and r.status < 400]
    assert [r.path for r in done] == [COMMENTS, LABELS]


def test_a_rate_limit_mid_command_is_retried_and_done_once(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled, NO_SELF)
    fake = fake_github
    add_pull(fake, ["a/a.go", "e/e.go"])
    say(fake, post_webhook, "alice", "/approve")
    fake.add_comment(ORG, REPO, PR, "spxtr", "/approve")
    # Adding the label is rate limited, longer than the client waits in
    # line: the delivery is retried later.
    fake.fail_next(
        "POST",
        f"^{LABELS}$",
        status=403,
        headers={"Retry-After": "600"},
        body={"message": SECONDARY_RATE_LIMIT_MESSAGE},
    )
    delivery_id = post(
        post_webhook, "issue_comment", comment_event(fake, "/approve", "spxtr")
    )

    with pytest.raises(RetryLater):
        delivery_dispatch(delivery_id)
    # The notification was rewritten before the label failed; the retry
    # finds it current and only adds the label.
    assert "**APPROVED**" in notification(fake)
    fake.clear_requests()
    handle(delivery_id)

    assert writes(fake) == [("POST", LABELS)]
    assert labels(fake) == ["approved"]
    assert len(notifications(fake)) == 1


# Pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, number",
    [
        ("fixes #42", 42),
        ("Finally fixes kubernetes/kubernetes#1\n", 1),
        (f"see https://github.com/{ORG}/other/issues/7", 7),
        ("no issue here", 0),
        ("issue 12", 0),
    ],
)
def test_associated_issue(body, number):
    assert associated_issue(body, ORG) == number


@pytest.mark.parametrize(
    "body, lgtm_acts, expected",
    [
        ("/approve", False, True),
        ("/APPROVE", False, True),
        ("/approve no-issue", False, True),
        ("/approve cancel", False, True),
        ("/remove-approve", False, True),
        ("stuff\n/approve\nmore", False, True),
        ("/lgtm", False, False),
        ("/lgtm", True, True),
        ("please /approve", False, False),
        ("```\n/approve\n```", False, False),
        ("<!-- /approve -->", False, False),
    ],
)
def test_is_approval_command(body, lgtm_acts, expected):
    assert is_approval_command(body, lgtm_acts) is expected


# Config -------------------------------------------------------------------------------


def _errors(plugins_yaml: str) -> list[tuple[int, str, str]]:
    result = validate("", plugins_yaml)
    return [(e.line, e.path, e.message) for e in result.errors]


def test_config_defaults(fake_github, plugins_enabled):
    plugins_enabled({f"{ORG}/{REPO}": ["approve"]})
    settings = plugin.settings(_context())
    assert settings.issue_required is False
    assert settings.self_approval is True
    assert settings.review_counts is True
    assert settings.lgtm_acts_as_approve is False
    assert settings.commandHelpLink == "https://go.k8s.io/bot-commands"
    assert settings.pr_process_link == PROCESS


def test_an_empty_link_means_the_default(fake_github, plugins_enabled):
    enable(plugins_enabled, 'commandHelpLink: ""\n')
    assert plugin.settings(_context()).commandHelpLink == (
        "https://go.k8s.io/bot-commands"
    )


@pytest.mark.parametrize(
    "entries, line, path, message",
    [
        (
            "- repos: [org/repo]\n  issue_required: maybe\n",
            5,
            "approve[0].issue_required",
            "bool",
        ),
        (
            "- repos: [org/repo]\n- repos: [other, org/repo]\n",
            5,
            "approve[1].repos[1]",
            "named by another approve entry",
        ),
        (
            "- repos: [org]\n  commandHelpLink: not-a-url\n",
            5,
            "approve[0].commandHelpLink",
            "not an http(s) URL",
        ),
    ],
)
def test_config_errors_name_their_line(entries, line, path, message):
    errors = _errors("plugins:\n  org: [approve]\napprove:\n" + entries)
    assert [(e[0], e[1]) for e in errors] == [(line, path)], errors
    assert message in errors[0][2]


def test_owners_config_errors_name_their_line():
    errors = _errors(
        "plugins:\n  org: [approve]\n"
        "owners:\n  filenames:\n    org/repo:\n      owner: X\n"
    )
    assert len(errors) == 1, errors
    assert errors[0][0] == 6
    assert "owners_aliases" in errors[0][2]


def test_help_is_built_from_the_commands():
    (approve_command, lgtm_command) = plugin.commands
    assert approve_command.usage == "/[remove-]approve [no-issue|cancel]"
    assert approve_command.pattern.search("/approve no-issue")
    assert approve_command.pattern.search("/remove-approve")
    assert lgtm_command.pattern.search("/lgtm")
    assert "Differences from the original" in plugin.description
    assert sorted(plugin.events) == [
        "generic_comment",
        "pull_request",
        "pull_request_review",
    ]
