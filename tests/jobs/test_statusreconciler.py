"""status-reconciler, against the GitHub double.

Each test builds two configs, seeds open and closed pull requests on the
double, reconciles, and checks the ProwJob rows created and the statuses
GitHub was sent.
"""

import re
import textwrap
import uuid

import pytest

from jobs.models import ProwJob
from jobs.statusreconciler import (
    MOVED,
    RETIRED,
    reconcile,
    reconcile_versions,
)
from prow.config.models import ConfigVersion
from prow.config.services import config_version_create
from prow.config.validation import validate

pytestmark = pytest.mark.django_db

ORG, REPO = "acme", "app"
BASE_TIP = "b" * 40  # the base branch's tip now
STALE_BASE = "0" * 39 + "1"  # what the pull requests were opened against
PLUGINS = f"plugins:\n  {ORG}/{REPO}: [trigger]\n"

UNIT = """\
      - name: unit
        always_run: true
        spec: {containers: [{image: golang}]}
"""


def config_text(*jobs: str, repo: str = REPO) -> str:
    return repos_text({repo: jobs})


def repos_text(jobs_by_repo: dict[str, tuple[str, ...]]) -> str:
    text = "presubmits:\n"
    for repo, jobs in jobs_by_repo.items():
        text += f"  {ORG}/{repo}:\n"
        text += "".join(textwrap.indent(textwrap.dedent(job), "  ") for job in jobs)
    return text


def job(name: str, extra: str = "") -> str:
    lines = [f"- name: {name}\n"]
    lines += [f"  {line}\n" for line in extra.splitlines() if line.strip()]
    lines.append("  spec: {containers: [{image: golang}]}\n")
    return "".join(lines)


def parsed(config: str, plugins: str = PLUGINS):
    result = validate(config, plugins)
    assert result.ok, result.errors
    return result.config, result.plugins


def run(old_text: str, new_text: str, plugins: str = PLUGINS):
    old, _ = parsed(old_text, plugins)
    new, plugin_config = parsed(new_text, plugins)
    return reconcile(old=old, new=new, plugins=plugin_config)


def sha() -> str:
    # Fresh per test: changed files are cached by head SHA across tests.
    return uuid.uuid4().hex + "0" * 8


@pytest.fixture(autouse=True)
def github(fake_github):
    fake = fake_github
    fake.add_repo(ORG, REPO)
    fake.add_branch(ORG, REPO, "main", BASE_TIP)
    fake.add_branch(ORG, REPO, "release-1.0", "d" * 40)
    fake.add_org_member(ORG, "member")
    fake.add_user("stranger")
    for label in ("ok-to-test", "needs-ok-to-test"):
        fake.add_label(ORG, REPO, label)
    return fake


def add_pull(fake, number, author="member", files=("main.go",), **kwargs):
    head = kwargs.pop("head_sha", None) or sha()
    fake.add_pull(
        ORG,
        REPO,
        number,
        author,
        head,
        base_sha=STALE_BASE,
        files=[{"filename": f} for f in files],
        **kwargs,
    )
    return head


def jobs_by_pull(name: str) -> dict[int, str]:
    return dict(ProwJob.objects.filter(job=name).values_list("pull_number", "pull_sha"))


def writes(fake):
    return [r for r in fake.requests() if r.method != "GET"]


def latest(fake, head: str, context: str):
    statuses = [s for s in fake.statuses(ORG, REPO, head) if s.context == context]
    return statuses[-1] if statuses else None


# Added jobs -----------------------------------------------------------------------


def test_added_always_run_job_starts_on_open_trusted_pulls_only(github):
    trusted = add_pull(github, 1)
    add_pull(github, 2, author="stranger")
    vouched = add_pull(github, 3, author="stranger", labels=["ok-to-test"])
    add_pull(github, 4, state="closed")
    add_pull(github, 5, draft=True)

    report = run(config_text(UNIT), config_text(UNIT, job("e2e", "always_run: true")))

    assert jobs_by_pull("e2e") == {1: trusted, 3: vouched}
    assert sorted(s.number for s in report.started) == [1, 3]
    started = ProwJob.objects.get(job="e2e", pull_number=1)
    assert started.type == "presubmit"
    assert started.refs["base_sha"] == BASE_TIP  # fetched, not the pull's stale one
    assert started.refs["base_ref"] == "main"
    assert started.refs["pulls"][0]["sha"] == trusted
    assert started.context == "e2e"
    assert started.report is True
    assert started.labels["event-GUID"] == "status-reconciler"
    assert started.labels["prow.k8s.io/is-optional"] == "false"
    assert not ProwJob.objects.filter(job="unit").exists()  # unchanged job
    # One listing, no pull read on its own; always_run needs no changed
    # files; and nothing is said on GitHub.
    assert len(github.requests("GET", f"/repos/{ORG}/{REPO}/pulls")) == 1
    assert github.requests("GET", re.compile(r"/pulls/\d+$")) == []
    assert github.requests("GET", re.compile(r"/files$")) == []
    assert writes(github) == []


def test_added_job_respects_its_branch_filter(github):
    add_pull(github, 1)
    on_release = add_pull(github, 2, base_ref="release-1.0")
    add_pull(github, 3, author="stranger")

    run(
        config_text(UNIT),
        config_text(UNIT, job("rel", "always_run: true\nbranches: ['^release-']")),
    )

    assert jobs_by_pull("rel") == {2: on_release}
    assert ProwJob.objects.get(job="rel").refs["base_sha"] == "d" * 40
    # Nothing could run on the pulls to main, so nobody's trust was asked.
    assert github.requests("GET", re.compile(r"/stranger$")) == []


def test_added_run_if_changed_job_starts_only_where_files_match(github):
    go = add_pull(github, 1, files=("cmd/main.go", "README.md"))
    add_pull(github, 2, files=("docs/intro.md",))

    report = run(
        config_text(UNIT), config_text(UNIT, job("lint", "run_if_changed: '\\.go$'"))
    )

    assert jobs_by_pull("lint") == {1: go}
    assert [(s.number, s.job) for s in report.started] == [(1, "lint")]


def test_changed_change_regex_starts_where_it_now_matches(github):
    go = add_pull(github, 1, files=("main.go",))
    add_pull(github, 2, files=("docs/intro.md",))
    before = job("lint", "run_if_changed: '^docs/'")
    after = job("lint", "run_if_changed: '\\.go$'")

    run(config_text(UNIT, before), config_text(UNIT, after))

    assert jobs_by_pull("lint") == {1: go}


def test_job_that_starts_reporting_is_started(github):
    head = add_pull(github, 1)

    run(
        config_text(job("e2e", "always_run: true\nskip_report: true")),
        config_text(job("e2e", "always_run: true")),
    )

    assert jobs_by_pull("e2e") == {1: head}


@pytest.mark.parametrize(
    "extra",
    [
        "always_run: true\noptional: true",
        "always_run: true\nskip_report: true",
        "",  # manual: only /test starts it
    ],
    ids=["optional", "skip_report", "manual"],
)
def test_added_jobs_that_block_nothing_start_nothing(github, extra):
    add_pull(github, 1)

    report = run(config_text(UNIT), config_text(UNIT, job("extra", extra)))

    assert report.started == []
    assert not ProwJob.objects.exists()
    # Nothing to do in the repo, so not even its pull requests are listed.
    assert github.requests() == []


def test_added_job_is_not_started_twice_at_the_same_head(github):
    head = add_pull(github, 1)
    old, new = config_text(UNIT), config_text(UNIT, job("e2e", "always_run: true"))

    first = run(old, new)
    second = run(old, new)

    assert len(first.started) == 1
    assert second.started == []
    assert jobs_by_pull("e2e") == {1: head}


# Removed and renamed jobs ---------------------------------------------------------


def test_removed_job_context_is_retired_on_open_trusted_pulls(github):
    open_head = add_pull(github, 1)
    closed_head = add_pull(github, 2, state="closed")
    untrusted_head = add_pull(github, 3, author="stranger")
    failed_head = add_pull(github, 4)
    for head in (open_head, closed_head, untrusted_head):
        github.set_status(ORG, REPO, head, "old-e2e", "pending", "Job triggered.")
    github.set_status(ORG, REPO, failed_head, "old-e2e", "failure", "Job failed.")
    github.set_status(ORG, REPO, open_head, "unit", "pending", "Job triggered.")

    report = run(
        config_text(UNIT, job("old-e2e", "always_run: true")), config_text(UNIT)
    )

    for head in (open_head, failed_head):
        retired = latest(github, head, "old-e2e")
        assert (retired.state, retired.description) == ("success", RETIRED)
    for head in (closed_head, untrusted_head):
        left = latest(github, head, "old-e2e")
        assert (left.state, left.description) == ("pending", "Job triggered.")
    assert latest(github, open_head, "unit").state == "pending"
    assert sorted(c.number for c in report.retired) == [1, 4]
    assert not ProwJob.objects.exists()


def test_removed_job_is_retired_only_where_its_branch_filter_matched(github):
    main_head = add_pull(github, 1)
    release_head = add_pull(github, 2, base_ref="release-1.0")
    for head in (main_head, release_head):
        github.set_status(ORG, REPO, head, "rel", "pending")

    run(
        config_text(UNIT, job("rel", "always_run: true\nbranches: ['^release-']")),
        config_text(UNIT),
    )

    assert latest(github, release_head, "rel").description == RETIRED
    assert latest(github, main_head, "rel").state == "pending"


def test_removed_job_whose_context_lives_on_is_not_retired(github):
    head = add_pull(github, 1)
    github.set_status(ORG, REPO, head, "e2e", "pending")
    renamed = job("e2e-v2", "always_run: true\ncontext: e2e")

    report = run(
        config_text(UNIT, job("e2e", "always_run: true")), config_text(UNIT, renamed)
    )

    assert report.retired == []
    assert latest(github, head, "e2e").state == "pending"


def test_already_retired_context_is_not_written_again(github):
    head = add_pull(github, 1)
    github.set_status(ORG, REPO, head, "gone", "success", RETIRED)

    report = run(config_text(UNIT, job("gone", "always_run: true")), config_text(UNIT))

    assert report.retired == []
    assert writes(github) == []


def test_renamed_context_is_copied_and_the_old_one_retired(github):
    head = add_pull(github, 1)
    closed_head = add_pull(github, 2, state="closed")
    url = "https://prow.example.com/view/1"
    for h in (head, closed_head):
        github.set_status(ORG, REPO, h, "ci/unit", "failure", "Job failed.", url)
    before = job("unit", "always_run: true\ncontext: ci/unit")
    after = job("unit", "always_run: true\ncontext: ci/unit-v2")

    report = run(config_text(before), config_text(after))

    copied = latest(github, head, "ci/unit-v2")
    assert (copied.state, copied.description, copied.target_url) == (
        "failure",
        "Job failed.",
        url,
    )
    old = latest(github, head, "ci/unit")
    assert (old.state, old.description) == (
        "success",
        'Context retired. Status moved to "ci/unit-v2".',
    )
    assert MOVED.format(context="ci/unit-v2") == old.description
    assert latest(github, closed_head, "ci/unit").state == "failure"
    assert latest(github, closed_head, "ci/unit-v2") is None
    assert [(c.from_context, c.context) for c in report.migrated] == [
        ("ci/unit", "ci/unit-v2")
    ]
    assert not ProwJob.objects.exists()  # a rename is not a new job


def test_renamed_context_already_reported_keeps_its_own_status(github):
    head = add_pull(github, 1)
    github.set_status(ORG, REPO, head, "ci/unit", "failure", "Job failed.")
    github.set_status(ORG, REPO, head, "ci/unit-v2", "success", "Job succeeded.")
    before = job("unit", "always_run: true\ncontext: ci/unit")
    after = job("unit", "always_run: true\ncontext: ci/unit-v2")

    run(config_text(before), config_text(after))

    assert latest(github, head, "ci/unit-v2").description == "Job succeeded."
    assert latest(github, head, "ci/unit").description == MOVED.format(
        context="ci/unit-v2"
    )


# Whole runs -----------------------------------------------------------------------


def test_unchanged_config_asks_github_nothing(github):
    head = add_pull(github, 1)
    github.set_status(ORG, REPO, head, "unit", "pending")
    github.clear_requests()
    text = config_text(UNIT, job("lint", "run_if_changed: '\\.go$'"))

    report = run(text, text)

    assert (report.started, report.retired, report.migrated) == ([], [], [])
    assert github.requests() == []
    assert not ProwJob.objects.exists()


def test_denylisted_repo_is_left_alone(github, settings):
    add_pull(github, 1)
    settings.PROW_STATUS_RECONCILER_DENYLIST = [f"{ORG}/{REPO}"]

    report = run(config_text(UNIT), config_text(UNIT, job("e2e", "always_run: true")))

    assert report.started == []
    assert github.requests() == []


def test_failing_repo_is_reported_and_others_still_reconciled(github, settings):
    github.add_repo(ORG, "other")
    github.add_pull(ORG, "other", 1, "member", sha(), files=[{"filename": "a.go"}])
    settings.PROW_GITHUB_MAX_RETRIES = 0
    settings.PROW_GITHUB_RETRY_BACKOFF_SECONDS = 0
    github.fail_next("GET", f"/repos/{ORG}/{REPO}/pulls$", status=502, times=5)
    added = job("e2e", "always_run: true")

    report = run(
        repos_text({REPO: (UNIT,), "other": (UNIT,)}),
        repos_text({REPO: (UNIT, added), "other": (UNIT, added)}),
    )

    assert [(f.repo, f.permanent) for f in report.failures] == [
        (f"{ORG}/{REPO}", False)
    ]
    assert report.should_retry
    assert [(s.repo, s.job) for s in report.started] == [("other", "e2e")]


def test_reconcile_versions_compares_two_stored_versions(github):
    head = add_pull(github, 1)
    first = config_version_create(
        config_yaml=config_text(UNIT),
        plugins_yaml=PLUGINS,
        source=ConfigVersion.Source.API,
    )
    second = config_version_create(
        config_yaml=config_text(UNIT, job("e2e", "always_run: true")),
        plugins_yaml=PLUGINS,
        source=ConfigVersion.Source.API,
    )

    report = reconcile_versions(first.pk, second.pk)

    assert [(s.number, s.job) for s in report.started] == [(1, "e2e")]
    started = ProwJob.objects.get(job="e2e")
    assert started.pull_sha == head
    assert started.labels["event-GUID"] == f"status-reconciler-{second.pk}"
    # Without an old id the version before is used; the job exists already.
    assert reconcile_versions(None, second.pk).started == []
    assert ProwJob.objects.count() == 1


def test_reconcile_versions_first_version_changes_nothing(github):
    add_pull(github, 1)
    only = config_version_create(
        config_yaml=config_text(UNIT),
        plugins_yaml=PLUGINS,
        source=ConfigVersion.Source.API,
    )

    report = reconcile_versions(None, only.pk)

    assert report.started == []
    assert not ProwJob.objects.exists()
    assert github.requests() == []
