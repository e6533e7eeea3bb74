"""The trigger plugin, through /hook and the GitHub double.

Each test sends the webhook GitHub would send, lets the plugin handle it
(the worker's step, called directly), and checks the ProwJob rows created
and what GitHub was told.
"""

import copy
import json
import textwrap

import pytest

from hook.models import WebhookDelivery
from hook.services import delivery_dispatch
from jobs.models import ProwJob, ProwJobState
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

ORG, REPO, PR = "acme", "app", 7
BASE_TIP = "b" * 40  # the base branch's tip now
STALE_BASE = "0" * 39 + "1"  # what the webhook says it was
HEAD = "a" * 40
NEW_HEAD = "c" * 40

CONFIG = textwrap.dedent(
    f"""\
    presubmits:
      {ORG}/{REPO}:
      - name: unit
        always_run: true
        spec: {{containers: [{{image: golang, command: [go, test]}}]}}
      - name: integration
        always_run: true
        optional: true
        spec: {{containers: [{{image: golang}}]}}
      - name: lint
        run_if_changed: '\\.go$'
        spec: {{containers: [{{image: golang}}]}}
      - name: docs
        skip_if_only_changed: '^docs/'
        spec: {{containers: [{{image: docs}}]}}
      - name: e2e
        spec: {{containers: [{{image: e2e}}]}}
      - name: release-only
        always_run: true
        branches: ['^release-']
        spec: {{containers: [{{image: golang}}]}}
    postsubmits:
      {ORG}/{REPO}:
      - name: deploy
        branches: [main]
        spec: {{containers: [{{image: deploy}}]}}
      - name: docs-site
        run_if_changed: '^docs/'
        spec: {{containers: [{{image: docs}}]}}
    """
)
AUTO = ["docs", "integration", "lint", "unit"]  # for a change to main.go


def plugins_yaml(extra=""):
    return f"plugins:\n  {ORG}/{REPO}: [trigger]\n{extra}"


@pytest.fixture(autouse=True)
def github(clean_broker, fake_github, activate_config):
    fake = fake_github
    fake.add_repo(ORG, REPO)
    fake.add_branch(ORG, REPO, "main", BASE_TIP)
    fake.add_branch(ORG, REPO, "release-1.0", "d" * 40)
    fake.add_org_member(ORG, "member")
    fake.add_collaborator(ORG, REPO, "collab")
    fake.add_user("stranger")
    fake.add_user("dependabot[bot]", type="Bot")
    for label in ("ok-to-test", "needs-ok-to-test", "lgtm"):
        fake.add_label(ORG, REPO, label)
    activate_config(config_yaml=CONFIG, plugins_yaml=plugins_yaml())
    return fake


def add_pull(fake, author="member", files=("main.go",), **kwargs):
    return fake.add_pull(
        ORG,
        REPO,
        PR,
        author,
        HEAD,
        base_ref=kwargs.pop("base_ref", "main"),
        title="Make it faster",
        head_ref="faster",
        files=[
            {
                "filename": f,
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "changes": 2,
            }
            for f in files
        ],
        **kwargs,
    )


def pr_event(action, author="member", *, labels=(), draft=False, head=HEAD, **extra):
    payload = copy.deepcopy(fixture_payload("pull_request.opened"))
    payload["action"] = action
    payload["number"] = PR
    payload["repository"]["full_name"] = f"{ORG}/{REPO}"
    payload["repository"]["name"] = REPO
    payload["repository"]["owner"]["login"] = ORG
    pr = payload["pull_request"]
    pr.update(
        number=PR,
        draft=draft,
        state="open",
        title="Make it faster",
        labels=[{"name": name} for name in labels],
        mergeable=extra.pop("mergeable", None),
    )
    pr["user"]["login"] = author
    pr["head"].update(sha=head, ref="faster")
    pr["base"].update(ref=extra.pop("base_ref", "main"), sha=STALE_BASE)
    payload["sender"]["login"] = extra.pop("sender", author)
    payload.update(extra)
    return payload


def comment_event(body, user="member", *, action="created", state="open", is_pr=True):
    payload = copy.deepcopy(fixture_payload("issue_comment.created"))
    payload["action"] = action
    payload["repository"]["full_name"] = f"{ORG}/{REPO}"
    payload["repository"]["name"] = REPO
    payload["repository"]["owner"]["login"] = ORG
    issue = payload["issue"]
    issue.update(number=PR, state=state)
    if is_pr:
        issue["pull_request"] = {
            "url": f"https://api.github.com/repos/{ORG}/{REPO}/pulls/{PR}"
        }
    else:
        issue.pop("pull_request", None)
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = user
    payload["sender"]["login"] = user
    return payload


def deliver(post_webhook, event, payload, guid=None):
    assert post_webhook(event, payload, guid=guid).status_code == 200
    delivery = WebhookDelivery.objects.order_by("-pk").first()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.last_error
    return delivery


def started(state=ProwJobState.TRIGGERED):
    return sorted(ProwJob.objects.filter(state=state).values_list("job", flat=True))


def comments(fake):
    return [c.body for c in fake.comments(ORG, REPO, PR)]


def labels(fake):
    return sorted(fake.issue(ORG, REPO, PR).labels)


# Pull request events ------------------------------------------------------------


def test_member_pr_runs_automatic_jobs_against_the_current_base(post_webhook, github):
    add_pull(github)
    delivery = deliver(post_webhook, "pull_request", pr_event("opened"))
    assert started() == AUTO
    job = ProwJob.objects.get(job="unit")
    assert job.type == "presubmit"
    assert job.state == "triggered"
    assert job.refs["base_sha"] == BASE_TIP  # fetched, not the stale payload's
    assert job.refs["base_ref"] == "main"
    (pull,) = job.refs["pulls"]
    assert (pull["number"], pull["sha"], pull["author"]) == (PR, HEAD, "member")
    assert job.context == "unit"
    assert job.rerun_command == "/test unit"
    assert job.report is True
    assert job.labels["event-GUID"] == delivery.guid
    assert job.labels["prow.k8s.io/is-optional"] == "false"
    assert (
        ProwJob.objects.get(job="integration").labels["prow.k8s.io/is-optional"]
        == "true"
    )
    assert (job.org, job.repo, job.pull_number, job.author) == (ORG, REPO, PR, "member")
    assert job.pod_spec == {
        "containers": [{"image": "golang", "command": ["go", "test"]}]
    }


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["main.go"], ["docs", "integration", "lint", "unit"]),
        (["docs/intro.md"], ["integration", "unit"]),  # only docs: docs skipped
        (["README.md", "docs/x.md"], ["docs", "integration", "unit"]),
    ],
)
def test_file_filters(post_webhook, github, files, expected):
    add_pull(github, files=files)
    deliver(post_webhook, "pull_request", pr_event("opened"))
    assert started() == expected


def test_untrusted_pr_runs_nothing_and_explains(post_webhook, github):
    add_pull(github, author="stranger")
    deliver(post_webhook, "pull_request", pr_event("opened", author="stranger"))
    assert started() == []
    assert labels(github) == ["needs-ok-to-test"]
    (welcome,) = comments(github)
    assert welcome.startswith("Hi @stranger. Thanks for your PR.")
    assert "reply with `/ok-to-test` on its own line" in welcome


def test_collaborators_are_trusted_unless_only_org_members(
    post_webhook, github, activate_config
):
    add_pull(github, author="collab")
    deliver(post_webhook, "pull_request", pr_event("opened", author="collab"))
    assert started() == AUTO
    ProwJob.objects.all().delete()
    activate_config(
        config_yaml=CONFIG,
        plugins_yaml=plugins_yaml(
            f"triggers:\n- repos: [{ORG}]\n  only_org_members: true\n"
        ),
    )
    deliver(post_webhook, "pull_request", pr_event("reopened", author="collab"))
    assert started() == []


@pytest.mark.parametrize(("apps", "expected"), [([], []), (["dependabot"], AUTO)])
def test_bots_are_trusted_only_as_trusted_apps(
    post_webhook, github, apps, expected, activate_config
):
    activate_config(
        config_yaml=CONFIG,
        plugins_yaml=plugins_yaml(
            f"triggers:\n- repos: [{ORG}]\n  trusted_apps: {json.dumps(apps)}\n"
        ),
    )
    add_pull(github, author="dependabot[bot]")
    deliver(post_webhook, "pull_request", pr_event("opened", author="dependabot[bot]"))
    assert started() == expected


def test_draft_pr_runs_nothing_and_says_so(post_webhook, github):
    add_pull(github, draft=True)
    deliver(post_webhook, "pull_request", pr_event("opened", draft=True))
    assert started() == []
    assert comments(github)[0].startswith("Skipping CI for Draft Pull Request.")


def test_push_aborts_running_presubmits_and_starts_new_ones(post_webhook, github):
    add_pull(github)
    deliver(post_webhook, "pull_request", pr_event("opened"))
    old = list(ProwJob.objects.all())
    github.pull(ORG, REPO, PR).head_sha = NEW_HEAD
    deliver(post_webhook, "pull_request", pr_event("synchronize", head=NEW_HEAD))
    for job in old:
        job.refresh_from_db()
        assert job.state == "aborted"
        assert job.description == "Aborted by trigger plugin."
        assert job.completion_time is not None
    fresh = ProwJob.objects.filter(state="triggered")
    assert sorted(fresh.values_list("job", flat=True)) == AUTO
    assert {j.pull_sha for j in fresh} == {NEW_HEAD}


def test_push_to_untrusted_pr_with_ok_to_test_reruns(post_webhook, github):
    add_pull(github, author="stranger", labels=["ok-to-test"])
    event = pr_event("synchronize", author="stranger", labels=["ok-to-test"])
    deliver(post_webhook, "pull_request", event)
    assert started() == AUTO


@pytest.mark.parametrize("action", ["closed", "converted_to_draft"])
def test_closing_or_drafting_aborts(post_webhook, github, action):
    add_pull(github)
    deliver(post_webhook, "pull_request", pr_event("opened"))
    deliver(post_webhook, "pull_request", pr_event(action))
    assert started() == []
    assert set(ProwJob.objects.values_list("state", flat=True)) == {"aborted"}


def test_unmergeable_pr_gets_no_jobs(post_webhook, github):
    add_pull(github, mergeable=False)
    deliver(post_webhook, "pull_request", pr_event("opened", mergeable=False))
    assert started() == []


def test_lgtm_label_on_untrusted_pr_starts_jobs(post_webhook, github):
    add_pull(github, author="stranger", labels=["lgtm"])
    event = pr_event("labeled", author="stranger", labels=["lgtm"], sender="member")
    event["label"] = {"name": "lgtm"}
    deliver(post_webhook, "pull_request", event)
    assert started() == AUTO


def test_ok_to_test_label_added_by_the_bot_starts_nothing_extra(post_webhook, github):
    add_pull(github, author="stranger", labels=["ok-to-test"])
    event = pr_event(
        "labeled", author="stranger", labels=["ok-to-test"], sender="prow-bot"
    )
    event["label"] = {"name": "ok-to-test"}
    deliver(post_webhook, "pull_request", event)
    assert started() == []
    event = pr_event(
        "labeled", author="stranger", labels=["ok-to-test"], sender="member"
    )
    event["label"] = {"name": "ok-to-test"}
    deliver(post_webhook, "pull_request", event)
    assert started() == AUTO


# Comments -----------------------------------------------------------------------


def test_ok_to_test_by_a_member(post_webhook, github):
    add_pull(github, author="stranger", labels=["needs-ok-to-test"])
    deliver(post_webhook, "issue_comment", comment_event("/ok-to-test", user="member"))
    assert labels(github) == ["ok-to-test"]
    assert started() == AUTO


def test_ok_to_test_by_a_stranger_is_refused(post_webhook, github):
    add_pull(github, author="stranger", labels=["needs-ok-to-test"])
    deliver(
        post_webhook, "issue_comment", comment_event("/ok-to-test", user="stranger")
    )
    assert started() == []
    assert labels(github) == ["needs-ok-to-test"]
    (reply,) = comments(github)
    assert reply.startswith(
        "@stranger: Cannot trigger testing until a trusted user reviews the PR and "
        "leaves an `/ok-to-test` message."
    )


def test_test_all_by_a_stranger_on_a_trusted_pr(post_webhook, github):
    add_pull(github, author="stranger", labels=["ok-to-test"])
    deliver(post_webhook, "issue_comment", comment_event("/test all", user="stranger"))
    assert started() == AUTO


def test_test_all_never_starts_manual_jobs(post_webhook, github):
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/test all"))
    assert "e2e" not in started()
    assert started() == AUTO


def test_test_by_name_ignores_file_filters(post_webhook, github):
    add_pull(github, files=["README.md"])
    deliver(post_webhook, "issue_comment", comment_event("/test lint\n/test e2e"))
    assert started() == ["e2e", "lint"]


def test_test_by_name_obeys_branch_filters(post_webhook, github):
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/test release-only"))
    assert started() == []
    (reply,) = comments(github)
    assert "The specified target(s) for `/test` were not found." in reply
    assert "* `/test unit`" in reply
    assert "* `/test release-only`" not in reply


def test_bare_test_and_test_question_mark(post_webhook, github):
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/test"))
    deliver(post_webhook, "issue_comment", comment_event("/test ?"))
    needs, listing = comments(github)
    assert "The `/test` command needs one or more targets." in needs
    assert "needs one or more targets" not in listing
    assert "The following commands are available to trigger required jobs:" in listing
    assert (
        "The following commands are available to trigger optional jobs:\n* `/test integration`"
        in listing
    )
    assert started() == []


def test_retest_with_a_target_is_refused(post_webhook, github):
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/retest unit"))
    assert "The `/retest` command does not accept any targets." in comments(github)[0]
    assert started() == []


def statuses(fake, **states):
    for context, state in states.items():
        fake.set_status(ORG, REPO, HEAD, context, state)


def test_retest_reruns_failed_and_missing_automatic_jobs(post_webhook, github):
    add_pull(github)
    # unit failed, integration errored, lint pending, docs never reported,
    # e2e (manual) failed.
    statuses(github, unit="failure", integration="error", lint="pending", e2e="failure")
    deliver(post_webhook, "issue_comment", comment_event("/retest"))
    assert started() == ["docs", "e2e", "integration", "unit"]
    assert all(j.labels["prow.k8s.io/retest"] == "true" for j in ProwJob.objects.all())


def test_retest_required_skips_optional_jobs(post_webhook, github):
    add_pull(github)
    statuses(
        github, unit="failure", integration="failure", lint="success", docs="success"
    )
    deliver(post_webhook, "issue_comment", comment_event("/retest-required"))
    assert started() == ["unit"]


def test_passing_and_pending_jobs_are_not_retested(post_webhook, github):
    add_pull(github)
    statuses(
        github, unit="success", integration="pending", lint="success", docs="success"
    )
    deliver(post_webhook, "issue_comment", comment_event("/retest"))
    assert started() == []


@pytest.mark.parametrize(
    ("body", "action"),
    [
        ("look:\n```\n/test all\n```", "created"),
        ("/test all", "edited"),
        ("/TEST all", "created"),  # /test is case-sensitive
        ("please /test all", "created"),  # not at the start of a line
    ],
)
def test_comments_that_are_not_commands(post_webhook, github, body, action):
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event(body, action=action))
    assert started() == []
    assert comments(github) == []


def test_the_bots_own_comments_trigger_nothing(post_webhook, github):
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/test all", user="prow-bot"))
    assert started() == []


def test_commands_on_issues_and_closed_prs_do_nothing(post_webhook, github):
    add_pull(github, state="closed")
    deliver(post_webhook, "issue_comment", comment_event("/test all", state="closed"))
    github.add_issue(ORG, REPO, number=8, author="member")
    event = comment_event("/ok-to-test", is_pr=False)
    event["issue"]["number"] = 8
    deliver(post_webhook, "issue_comment", event)
    assert started() == []
    assert github.comments(ORG, REPO, 8) == []


def test_a_started_job_prunes_earlier_help_replies(post_webhook, github):
    add_pull(github)
    deliver(post_webhook, "issue_comment", comment_event("/test nothing-by-this-name"))
    assert len(comments(github)) == 1
    github.add_comment(
        ORG,
        REPO,
        PR,
        "member",
        "The specified target(s) for `/test` were not found. (a human quoting)",
    )
    deliver(post_webhook, "issue_comment", comment_event("/test unit"))
    assert started() == ["unit"]
    # The bot's help reply is gone; the human's comment stays.
    remaining = comments(github)
    assert len(remaining) == 1 and "(a human quoting)" in remaining[0]


def test_a_redelivered_test_all_starts_nothing_twice(post_webhook, github):
    add_pull(github)
    payload = comment_event("/test all")
    deliver(post_webhook, "issue_comment", payload, guid="once")
    assert post_webhook("issue_comment", payload, guid="once").status_code == 200
    # Even handled again from scratch (every plugin re-run), nothing doubles.
    delivery = WebhookDelivery.objects.get(guid="once")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="failed", plugin_results={}
    )
    delivery_dispatch(delivery.pk)
    assert started() == AUTO
    assert ProwJob.objects.count() == len(AUTO)


# Pushes ---------------------------------------------------------------------------


def push_event(
    ref="refs/heads/main", *, after=NEW_HEAD, files=("main.go",), deleted=False
):
    payload = copy.deepcopy(fixture_payload("push"))
    payload.update(ref=ref, after=after, deleted=deleted)
    payload["repository"]["full_name"] = f"{ORG}/{REPO}"
    payload["repository"]["name"] = REPO
    payload["repository"]["owner"].update(name=ORG, login=ORG)
    payload["commits"] = [
        {"id": after, "added": [], "removed": [], "modified": list(files)}
    ]
    return payload


def test_push_to_main_runs_matching_postsubmits(post_webhook, github):
    delivery = deliver(post_webhook, "push", push_event(files=["main.go"]))
    assert started() == ["deploy"]
    job = ProwJob.objects.get()
    assert job.type == "postsubmit"
    assert job.refs["base_ref"] == "main" and job.refs["base_sha"] == NEW_HEAD
    assert job.labels["event-GUID"] == delivery.guid
    deliver(post_webhook, "push", push_event(files=["docs/a.md"], after="e" * 40))
    assert started() == ["deploy", "deploy", "docs-site"]


def test_branch_deletion_runs_nothing(post_webhook, github):
    deliver(post_webhook, "push", push_event(after="0" * 40, deleted=True))
    assert started() == []


def test_push_to_other_branch_skips_branch_filtered_jobs(post_webhook, github):
    deliver(post_webhook, "push", push_event(ref="refs/heads/feature"))
    assert started() == []


# In-repo config -----------------------------------------------------------------------


def test_jobs_from_the_repository_run_with_the_central_ones(
    post_webhook, github, activate_config
):
    activate_config(
        config_yaml=CONFIG + "in_repo_config:\n  enabled:\n    acme/app: true\n",
        plugins_yaml=plugins_yaml(),
    )
    add_pull(github)
    github.set_file(
        ORG,
        REPO,
        ".prow.yaml",
        "presubmits:\n- name: from-repo\n  always_run: true\n"
        "  spec: {containers: [{image: busybox}]}\n",
        ref=HEAD,
    )
    deliver(post_webhook, "pull_request", pr_event("opened"))
    assert started() == sorted([*AUTO, "from-repo"])


def test_broken_repository_config_is_reported_not_crashed_on(
    post_webhook, github, activate_config
):
    activate_config(
        config_yaml=CONFIG + "in_repo_config:\n  enabled:\n    acme: true\n",
        plugins_yaml=plugins_yaml(),
    )
    add_pull(github)
    github.set_file(
        ORG,
        REPO,
        ".prow.yaml",
        "presubmits:\n- name: unit\n  always_run: true\n  spec: {containers: [{image: x}]}\n",
        ref=HEAD,
    )
    deliver(post_webhook, "pull_request", pr_event("opened"))
    assert started() == []
    (comment,) = comments(github)
    assert "duplicated presubmit jobs" in comment
    assert "Traceback" not in comment


def test_tags_run_only_jobs_configured_for_them(post_webhook, github, activate_config):
    deliver(post_webhook, "push", push_event(ref="refs/tags/v1.0"))
    assert started() == []  # deploy is for branch main only; docs-site for any branch
    activate_config(
        config_yaml=CONFIG
        + "  - name: release\n    branches: ['^v\\d']\n"
        + "    spec: {containers: [{image: r}]}\n",
        plugins_yaml=plugins_yaml(),
    )
    deliver(post_webhook, "push", push_event(ref="refs/tags/v1.1", after="9" * 40))
    assert started() == ["release"]
