"""skip through /hook: `/skip` marks the stale statuses of jobs that do not
block merging as passed, and nothing else."""

import textwrap

import pytest

from tests.hook.plugins.pulls import (
    HEAD,
    ORG,
    PR,
    REPO,
    comment_event,
    comments,
    deliver,
    handle,
    handle_failing,
    post,
    writes,
)

pytestmark = pytest.mark.django_db

CONFIG = textwrap.dedent(
    f"""\
    presubmits:
      {ORG}/{REPO}:
      - name: unit
        spec: {{containers: [{{image: golang}}]}}
      - name: e2e
        spec: {{containers: [{{image: golang}}]}}
      - name: lint
        optional: true
        spec: {{containers: [{{image: golang}}]}}
      - name: docs
        optional: true
        context: ci/docs
        spec: {{containers: [{{image: golang}}]}}
      - name: silent
        skip_report: true
        spec: {{containers: [{{image: golang}}]}}
      - name: integration
        optional: true
        always_run: true
        spec: {{containers: [{{image: golang}}]}}
      - name: job
        optional: true
        spec: {{containers: [{{image: golang}}]}}
      - name: gen
        optional: true
        run_if_changed: '\\.go$'
        spec: {{containers: [{{image: golang}}]}}
      - name: release-only
        optional: true
        branches: [release-1.0]
        spec: {{containers: [{{image: golang}}]}}
    """
)
STATUSES = f"/repos/{ORG}/{REPO}/statuses/{HEAD}"


def skipped(*contexts):
    return [
        (
            "POST",
            STATUSES,
            {"state": "success", "context": c, "description": "Skipped"},
        )
        for c in contexts
    ]


@pytest.fixture(autouse=True)
def github(fake_github, activate_config, clean_broker, private_cache):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_pull(ORG, REPO, PR, "alice", HEAD, files=[{"filename": "a.go"}])
    activate_config(
        config_yaml=CONFIG, plugins_yaml=f"plugins:\n  {ORG}/{REPO}: [skip]\n"
    )
    return fake_github


def statuses(fake, **states):
    for context, state in states.items():
        fake.set_status(ORG, REPO, HEAD, context.replace("_", "/"), state)
    fake.clear_requests()


def states(fake) -> dict[str, tuple[str, str]]:
    latest = {}
    for status in fake.statuses(ORG, REPO, HEAD):
        latest[status.context] = (status.state, status.description)
    return latest


CASES = [
    pytest.param(
        "/skip",
        {"unit": "success", "e2e": "failure", "silent": "pending"},
        ["silent"],
        id="required-contexts-are-never-skipped",
    ),
    pytest.param(
        "/skip",
        {"lint": "failure", "ci_docs": "pending", "unit": "failure"},
        ["lint", "ci/docs"],
        id="optional-failed-or-pending-are-skipped",
    ),
    pytest.param(
        "/skip",
        {"lint": "error", "unit": "failure"},
        ["lint"],
        id="errors-too",
    ),
    pytest.param(
        "/skip", {"unit": "failure"}, [], id="optional-that-never-reported-stay"
    ),
    pytest.param(
        "/skip",
        {"lint": "success", "unit": "failure"},
        [],
        id="optional-that-passed-stay",
    ),
    pytest.param(
        "/skip\n/test job",
        {"job": "failure", "lint": "failure"},
        ["lint"],
        id="a-job-the-comment-reruns-stays",
    ),
    pytest.param(
        "/skip\n/retest",
        {"job": "failure", "lint": "pending"},
        ["lint"],
        id="retest-reruns-the-failed-ones",
    ),
    pytest.param(
        "/skip",
        {"gen": "failure", "lint": "failure"},
        ["lint", "gen"],
        id="jobs-run-by-changed-files-are-skipped",
    ),
    pytest.param(
        "/skip\n/test all",
        {"gen": "failure", "lint": "failure"},
        ["lint"],
        id="test-all-reruns-what-the-changes-run",
    ),
    pytest.param(
        "/skip\n/ok-to-test",
        {"gen": "failure", "lint": "failure"},
        ["lint"],
        id="ok-to-test-runs-them-too",
    ),
    pytest.param(
        "/skip",
        {"lint": "success", "unit": "success"},
        [],
        id="nothing-when-everything-passes",
    ),
    pytest.param(
        "/skip",
        {"integration": "failure", "unit": "failure"},
        [],
        id="always-run-jobs-stay",
    ),
    pytest.param(
        "/skip",
        {"release-only": "failure", "unit": "failure"},
        ["release-only"],
        id="any-branch-context-reported-here",
    ),
    pytest.param(
        "/SKIP \n/skip",
        {"lint": "failure"},
        ["lint"],
        id="once-per-comment",
    ),
    pytest.param(
        "```\n/skip\n```",
        {"lint": "failure"},
        [],
        id="in-a-code-block-is-no-command",
    ),
    pytest.param(
        "/skip please",
        {"lint": "failure"},
        [],
        id="nothing-after-the-command",
    ),
]


@pytest.mark.parametrize(("body", "before", "expected"), CASES)
def test_skip(post_webhook, github, body, before, expected):
    statuses(github, **before)
    delivery = deliver(post_webhook, "issue_comment", comment_event(body))
    assert delivery.plugin_results == {"skip:generic_comment": "ok"}
    assert writes(github) == skipped(*expected)
    after = states(github)
    for context in expected:
        assert after[context] == ("success", "Skipped")
    assert comments(github) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"is_pr": False},
        {"state": "closed"},
        {"action": "edited"},
    ],
    ids=["issue", "closed", "edited"],
)
def test_only_new_comments_on_open_pull_requests(post_webhook, github, changes):
    if not changes.get("is_pr", True):
        github.add_issue(ORG, REPO, PR + 1)
    statuses(github, lint="failure")
    deliver(post_webhook, "issue_comment", comment_event("/skip", **changes))
    assert writes(github) == []


def test_a_redelivery_changes_nothing(post_webhook, github):
    statuses(github, lint="failure", ci_docs="failure", unit="failure")
    payload = comment_event("/skip")
    deliver(post_webhook, "issue_comment", payload, guid="skip-1")
    assert writes(github) == skipped("lint", "ci/docs")
    github.clear_requests()
    deliver(post_webhook, "issue_comment", payload, guid="skip-1")
    # A second /skip finds nothing left to skip.
    deliver(post_webhook, "issue_comment", comment_event("/skip"))
    assert writes(github) == []


def test_a_github_error_is_retried_and_done_once(post_webhook, github):
    statuses(github, lint="failure", ci_docs="failure", unit="failure")
    github.fail_next("POST", r"/statuses/", status=502)
    delivery_id = post(post_webhook, "issue_comment", comment_event("/skip"))
    handle_failing(delivery_id)
    assert writes(github) == []
    handle(delivery_id)
    assert writes(github) == skipped("lint", "ci/docs")
    assert states(github)["lint"] == ("success", "Skipped")
    assert states(github)["ci/docs"] == ("success", "Skipped")


def test_an_untrusted_authors_own_jobs_cannot_get_a_required_context_skipped(
    post_webhook, github, activate_config
):
    activate_config(
        config_yaml=CONFIG + f"in_repo_config:\n  enabled:\n    {ORG}/{REPO}: true\n",
        plugins_yaml=f"plugins:\n  {ORG}/{REPO}: [skip]\n",
    )
    # alice is no member: her pull request's own config would make the
    # required unit context an optional job's.
    github.set_file(
        ORG,
        REPO,
        ".prow.yaml",
        "presubmits:\n- name: mine\n  context: unit\n  optional: true\n"
        "  spec: {containers: [{image: b, command: ['true']}]}\n",
        ref=HEAD,
    )
    statuses(github, unit="failure", lint="failure")
    deliver(post_webhook, "issue_comment", comment_event("/skip"))
    assert writes(github) == skipped("lint")
