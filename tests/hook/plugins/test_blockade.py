"""blockade through /hook: pull requests touching protected paths get
`do-not-merge/blocked-paths` and one comment naming the files; both go when
they no longer touch them."""

import textwrap

import pytest

from prow.config.validation import validate
from prow.github.bot import ABOUT_BOT
from tests.hook.plugins.pulls import (
    HEAD,
    ORG,
    PR,
    REPO,
    comments,
    deliver,
    handle,
    handle_failing,
    labels,
    post,
    pr_event,
    writes,
)

pytestmark = pytest.mark.django_db

BLOCKED = "do-not-merge/blocked-paths"
LABELS_PATH = f"/repos/{ORG}/{REPO}/issues/{PR}/labels"
ADD = ("POST", LABELS_PATH, {"labels": [BLOCKED]})
REMOVE = ("DELETE", f"{LABELS_PATH}/{BLOCKED}", None)
BLOCKADES = textwrap.dedent(
    f"""\
    blockades:
    - repos: [{ORG}/{REPO}]
      blockregexps: ['^docs/']
      exceptionregexps: ['^docs/ok/']
      explanation: Docs have moved to the website
    - repos: [{ORG}]
      blockregexps: ['^vendor/', '\\.secret$']
    - repos: [{ORG}]
      branchregexp: '^release-'
      blockregexps: ['^src/']
      explanation: Release branches are frozen
    - repos: [other-org, {ORG}/other-repo]
      blockregexps: ['.*']
    """
)


def blob(path: str) -> str:
    return f"https://github.com/{ORG}/{REPO}/blob/{HEAD}/{path}"


@pytest.fixture(autouse=True)
def github(fake_github, plugins_enabled, clean_broker):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_user("alice")
    plugins_enabled({f"{ORG}/{REPO}": ["blockade"]}, BLOCKADES)
    return fake_github


def on_pull(fake, files, labels=(), base_ref="main"):
    fake.add_pull(
        ORG,
        REPO,
        PR,
        "alice",
        HEAD,
        base_ref=base_ref,
        labels=labels,
        files=[{"filename": name} for name in files],
    )
    fake.clear_requests()


def explanation(*reasons: tuple[str, list[str]]) -> str:
    text = "#### Reasons for blocking this PR:\n"
    for reason, files in reasons:
        text += f"[{reason}]\n"
        text += "".join(f"- [{name}]({blob(name)})\n\n" for name in files)
    return (
        "@alice: Adding label: `do-not-merge/blocked-paths` because PR changes "
        f"a protected file.\n\n<details>\n\n{text}\n\n{ABOUT_BOT}\n</details>"
    )


CASES = [
    pytest.param(["README.md", "src/main.go"], "main", [], id="nothing-protected"),
    pytest.param(
        ["docs/intro.md", "README.md"],
        "main",
        [("Docs have moved to the website", ["docs/intro.md"])],
        id="one-file",
    ),
    pytest.param(["docs/ok/intro.md"], "main", [], id="exception"),
    pytest.param(
        ["docs/a.md", "vendor/x.go", "keys.secret", "docs/ok/b.md"],
        "main",
        [
            ("Docs have moved to the website", ["docs/a.md"]),
            ("Files are protected", ["vendor/x.go", "keys.secret"]),
        ],
        id="two-blockades",
    ),
    pytest.param(["src/main.go"], "main", [], id="other-branch"),
    pytest.param(
        ["src/main.go"],
        "release-1.0",
        [("Release branches are frozen", ["src/main.go"])],
        id="branch-regexp",
    ),
    pytest.param(["vendorx/a.go", "a.secret.md"], "main", [], id="near-misses"),
]


@pytest.mark.parametrize(("files", "base", "reasons"), CASES)
def test_a_new_pull_request(post_webhook, github, files, base, reasons):
    on_pull(github, files, base_ref=base)
    delivery = deliver(post_webhook, "pull_request", pr_event("opened", base_ref=base))
    assert delivery.plugin_results == {"blockade:pull_request": "ok"}
    if not reasons:
        assert writes(github) == []
        assert labels(github) == []
        return
    body = explanation(*reasons)
    assert writes(github) == [
        ADD,
        ("POST", f"/repos/{ORG}/{REPO}/issues/{PR}/comments", {"body": body}),
    ]
    assert labels(github) == [BLOCKED]
    assert comments(github) == [body]


def test_already_blocked_says_nothing_more(post_webhook, github):
    on_pull(github, ["docs/a.md"], labels=[BLOCKED])
    deliver(post_webhook, "pull_request", pr_event("synchronize", labels=[BLOCKED]))
    assert writes(github) == []


@pytest.mark.parametrize("action", ["synchronize", "reopened"])
def test_unblocked_removes_the_label_and_the_comment(post_webhook, github, action):
    on_pull(github, ["docs/a.md"])
    deliver(post_webhook, "pull_request", pr_event("opened"))
    (ours,) = github.comments(ORG, REPO, PR)
    github.add_comment(ORG, REPO, PR, "bob", "Why is this blocked? Adding label: `x`")
    github.pull(ORG, REPO, PR).files[:] = [{"filename": "README.md"}]
    github.clear_requests()
    deliver(post_webhook, "pull_request", pr_event(action, labels=[BLOCKED]))
    assert writes(github) == [
        REMOVE,
        ("DELETE", f"/repos/{ORG}/{REPO}/issues/comments/{ours.id}", None),
    ]
    assert labels(github) == []
    assert [c.author for c in github.comments(ORG, REPO, PR)] == ["bob"]


def test_no_blockade_applies_any_more(post_webhook, github, plugins_enabled):
    on_pull(github, ["docs/a.md"])
    deliver(post_webhook, "pull_request", pr_event("opened"))
    plugins_enabled({f"{ORG}/{REPO}": ["blockade"]})
    deliver(post_webhook, "pull_request", pr_event("synchronize", labels=[BLOCKED]))
    assert labels(github) == []
    assert comments(github) == []


def test_not_blocked_and_no_label_asks_github_nothing(
    post_webhook, github, plugins_enabled
):
    plugins_enabled({f"{ORG}/{REPO}": ["blockade"]})
    on_pull(github, ["docs/a.md"])
    deliver(post_webhook, "pull_request", pr_event("opened"))
    assert github.requests(path=f"/repos/{ORG}/{REPO}/pulls/{PR}/files") == []
    assert writes(github) == []


@pytest.mark.parametrize("action", ["edited", "labeled", "closed"])
def test_other_actions_are_ignored(post_webhook, github, action):
    on_pull(github, ["docs/a.md"])
    deliver(post_webhook, "pull_request", pr_event(action))
    assert writes(github) == []


def test_a_redelivery_changes_nothing(post_webhook, github):
    on_pull(github, ["docs/a.md"])
    payload = pr_event("opened")
    deliver(post_webhook, "pull_request", payload, guid="blockade-1")
    github.clear_requests()
    deliver(post_webhook, "pull_request", payload, guid="blockade-1")
    assert writes(github) == []
    # A copy of the event under another GUID, still without the label.
    deliver(post_webhook, "pull_request", payload)
    assert len(comments(github)) == 1
    assert labels(github) == [BLOCKED]
    assert [w for w in writes(github) if w[0] == "DELETE"] == []


def test_a_github_error_is_retried_and_done_once(post_webhook, github):
    on_pull(github, ["docs/a.md"])
    github.fail_next("POST", r"/comments$", status=502)
    delivery_id = post(post_webhook, "pull_request", pr_event("opened"))
    handle_failing(delivery_id)
    assert labels(github) == [BLOCKED]
    assert comments(github) == []
    handle(delivery_id)
    assert labels(github) == [BLOCKED]
    assert comments(github) == [
        explanation(("Docs have moved to the website", ["docs/a.md"]))
    ]


def test_a_rate_limit_is_retried_and_done_once(post_webhook, github, settings):
    settings.PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS = 0
    on_pull(github, ["docs/a.md"])
    deliver(post_webhook, "pull_request", pr_event("opened"))
    github.pull(ORG, REPO, PR).files[:] = [{"filename": "README.md"}]
    github.rate_limit_next(retry_after=30, path_regex=r"/issues/comments/")
    delivery_id = post(
        post_webhook, "pull_request", pr_event("synchronize", labels=[BLOCKED])
    )
    retry = handle_failing(delivery_id)
    assert retry.retry_after == 30
    assert labels(github) == []
    assert len(comments(github)) == 1
    handle(delivery_id)
    assert comments(github) == []


@pytest.mark.parametrize(
    ("section", "line", "path", "message", "error"),
    [
        (
            "blockades:\n- repos: [a]\n  blockregexps: ['(']\n",
            3,
            "blockades[0].blockregexps[0]",
            "could not compile blockregexps regex",
            True,
        ),
        (
            "blockades:\n- repos: [a]\n  blockregexps: [x]\n  branchregexp: '['\n",
            4,
            "blockades[0].branchregexp",
            "could not compile branch regex",
            True,
        ),
        (
            "blockades:\n- repos: [a]\n  blockregexps: [x]\n"
            "  exceptionregexps: [x, '*']\n",
            4,
            "blockades[0].exceptionregexps[1]",
            "could not compile exceptionregexps regex",
            True,
        ),
        (
            "blockades:\n- repos: [a]\n  explanation: nothing\n",
            2,
            "blockades[0].blockregexps",
            "blocks nothing",
            False,
        ),
    ],
)
def test_the_section_is_checked_with_lines(section, line, path, message, error):
    result = validate("", section)
    found = result.errors if error else result.warnings
    matching = [e for e in found if e.path == path and message in e.message]
    assert matching, (result.errors, result.warnings)
    assert matching[0].line == line
