"""Tide end to end against the GitHub double: the real client reads pull
requests with GraphQL and merges over REST; ProwJobs are finished by hand,
as plank would finish them."""

import textwrap
import threading

import pytest
from django.db import connection

from jobs.labels import CREATED_BY_TIDE
from jobs.models import ProwJob, ProwJobState, ProwJobType
from jobs.services import prowjob_transition
from tide import sync, tasks
from tide.models import Action, HistoryRecord, Pool, WrittenStatus

pytestmark = pytest.mark.django_db(transaction=True)

ORG, REPO = "acme", "app"
BASE = "b" * 40
HOLD = "do-not-merge/hold"
BLOCKER = "tide/merge-blocker"

CONFIG = textwrap.dedent(
    f"""\
    pod_namespace: test-pods
    tide:
      # Every sync of these tests writes statuses.
      status_update_period: 1ms
      merge_method:
        {ORG}/{REPO}: squash
      rebase_label: tide/merge-method-rebase
      blocker_label: {BLOCKER}
      queries:
      - repos: [{ORG}/{REPO}]
        labels: [lgtm, approved]
        missingLabels: [{HOLD}]
      context_options:
        from-branch-protection: true
        skip-unknown-contexts: true
    presubmits:
      {ORG}/{REPO}:
      - name: unit
        always_run: true
        spec:
          containers:
          - image: golang
    """
)


def tip(github) -> str:
    with github._lock:
        return github._repo(ORG, REPO).branches["main"]


def open_pull(github, number, *, labels=("lgtm", "approved"), base=None, **extra):
    head = f"{number:040x}"
    pull = github.add_pull(
        ORG, REPO, number, f"dev{number}", head, labels=labels, **extra
    )
    github.set_status(
        ORG,
        REPO,
        head,
        "unit",
        "success",
        description=f"Job succeeded. BaseSHA:{base or tip(github)}",
    )
    return pull


def merged(github) -> list[int]:
    return sorted(
        int(r.path.rsplit("/", 2)[-2])
        for r in github.requests("PUT")
        if r.path.endswith("/merge") and r.status == 200
    )


def finish(job: ProwJob, state: str) -> None:
    job.refresh_from_db()
    if job.state == ProwJobState.TRIGGERED:
        prowjob_transition(job, ProwJobState.PENDING)
    prowjob_transition(job, state)


def tide_status(github, number):
    head = github.pull(ORG, REPO, number).head_sha
    found = [s for s in github.statuses(ORG, REPO, head) if s.context == "tide"]
    return found[-1] if found else None


def test_a_pull_request_with_lgtm_approved_and_green_contexts_merges(github):
    open_pull(github, 1)
    report = sync.sync()
    assert report.actions[Action.MERGE] == 1
    pull = github.pull(ORG, REPO, 1)
    assert pull.merged and pull.merge_method == "squash"
    # No status on the way: nothing requires it, and each write is spaced.
    assert tide_status(github, 1) is None
    (record,) = HistoryRecord.objects.all()
    assert record.action == Action.MERGE and record.targets[0]["number"] == 1
    assert record.base_sha == BASE


def test_a_required_tide_context_is_set_green_before_the_merge(github):
    github.protect_branch(ORG, REPO, "main", contexts=["tide"])
    open_pull(github, 1)
    sync.sync()
    writes = [
        r.path
        for r in github.requests()
        if r.method in ("POST", "PUT") and r.path.startswith(f"/repos/{ORG}/{REPO}")
    ]
    head = github.pull(ORG, REPO, 1).head_sha
    assert writes == [
        f"/repos/{ORG}/{REPO}/statuses/{head}",
        f"/repos/{ORG}/{REPO}/pulls/1/merge",
    ]
    assert tide_status(github, 1).description == "In merge pool."


def test_a_sync_writes_at_most_its_budget_of_statuses(github, settings):
    settings.PROW_TIDE_STATUS_WRITES_PER_SYNC = 2
    for number in (1, 2, 3):
        open_pull(github, number, labels=("lgtm",))
    sync.sync()
    assert WrittenStatus.objects.count() == 2
    sync.sync(full=True)
    assert WrittenStatus.objects.count() == 3


def test_a_label_overrides_the_merge_method(github):
    open_pull(github, 1, labels=("lgtm", "approved", "tide/merge-method-rebase"))
    sync.sync()
    assert github.pull(ORG, REPO, 1).merge_method == "rebase"


def test_a_held_pull_request_is_not_merged_and_its_status_says_why(github):
    open_pull(github, 1, labels=("lgtm", "approved", HOLD))
    open_pull(github, 2, labels=("lgtm",))
    sync.sync()
    assert merged(github) == []
    held = tide_status(github, 1)
    assert held.state == "pending"
    assert held.description == f"Not mergeable. Should not have {HOLD} label."
    assert tide_status(github, 2).description == "Not mergeable. Needs approved label."


def test_the_periodic_sync_writes_statuses_on_their_own_period(github, activate_config):
    activate_config(config_yaml=CONFIG.replace("1ms", "1h"))
    open_pull(github, 1, labels=("lgtm",))
    sync.sync()
    open_pull(github, 2, labels=("lgtm",))
    sync.sync(full=True)
    assert tide_status(github, 1) is not None
    assert tide_status(github, 2) is None
    # A sync an event asked for only acts: it writes no statuses.
    sync.sync(repo=(ORG, REPO))
    assert tide_status(github, 2) is None


def test_statuses_are_written_only_when_they_change(github):
    open_pull(github, 1, labels=("lgtm",))
    sync.sync()
    sync.sync(full=True)
    head = github.pull(ORG, REPO, 1).head_sha
    assert (
        len([s for s in github.statuses(ORG, REPO, head) if s.context == "tide"]) == 1
    )
    assert WrittenStatus.objects.get(number=1).state == "pending"


def test_a_conflicting_pull_request_is_left_alone_with_its_status_saying_why(github):
    open_pull(github, 1, mergeable=False)
    sync.sync()
    assert merged(github) == []
    status = tide_status(github, 1)
    assert status.state == "error"
    assert status.description == "Not mergeable. PR has a merge conflict."


def test_a_result_from_an_older_base_is_retested_before_merging(github):
    open_pull(github, 1, base="0" * 40)
    sync.sync()
    assert merged(github) == []
    (job,) = ProwJob.objects.filter(type=ProwJobType.PRESUBMIT)
    assert job.base_sha == BASE and job.labels[CREATED_BY_TIDE] == "true"
    assert Pool.objects.get().action == Action.TRIGGER
    # The same sync again starts nothing more.
    sync.sync(full=True)
    assert ProwJob.objects.count() == 1
    finish(job, ProwJobState.SUCCESS)
    sync.sync(full=True)
    assert merged(github) == [1]


def test_two_mergeable_pull_requests_run_a_batch_and_merge_together(github):
    open_pull(github, 1, base="0" * 40)
    open_pull(github, 2, base="0" * 40)
    sync.sync()
    (batch,) = ProwJob.objects.filter(type=ProwJobType.BATCH)
    assert [p["number"] for p in batch.pulls] == [1, 2]
    assert Pool.objects.get().action == Action.TRIGGER_BATCH
    finish(batch, ProwJobState.SUCCESS)
    sync.sync(full=True)
    assert merged(github) == [1, 2]
    record = HistoryRecord.objects.filter(action=Action.MERGE_BATCH).get()
    assert [t["number"] for t in record.targets] == [1, 2]


def _batches_at(base):
    return [
        tuple(p["number"] for p in job.pulls)
        for job in ProwJob.objects.filter(
            type=ProwJobType.BATCH, refs__base_sha=base
        ).order_by("id")
    ]


def test_a_failing_batch_of_four_is_bisected_and_the_good_ones_merge(github):
    for number in (1, 2, 3, 4):
        open_pull(github, number, base="0" * 40)
    culprit = 4
    for _ in range(15):
        sync.sync(full=True)
        for job in ProwJob.objects.filter(
            state__in=[ProwJobState.TRIGGERED, ProwJobState.PENDING]
        ):
            numbers = [p["number"] for p in job.pulls]
            failed = culprit in numbers
            finish(job, ProwJobState.FAILURE if failed else ProwJobState.SUCCESS)
            if job.type == ProwJobType.PRESUBMIT:
                # What the reporter writes on the head commit.
                github.set_status(
                    ORG,
                    REPO,
                    job.pull_sha,
                    "unit",
                    "failure" if failed else "success",
                    description=f"Job done. BaseSHA:{job.base_sha}",
                )
        status = tide_status(github, culprit)
        if merged(github) == [1, 2, 3] and "has not succeeded" in status.description:
            break
    assert merged(github) == [1, 2, 3]
    assert not github.pull(ORG, REPO, culprit).merged
    # The first batch failed at the first base; its first half was tried
    # next at that base, and no batch ran twice at one base.
    assert _batches_at(BASE) == [(1, 2, 3, 4), (1, 2)]
    every = [
        (job.base_sha, tuple(p["number"] for p in job.pulls))
        for job in ProwJob.objects.filter(type=ProwJobType.BATCH)
    ]
    assert len(every) == len(set(every))
    status = tide_status(github, culprit)
    assert status.description == "Not mergeable. Job unit has not succeeded."


def test_a_blocker_issue_stops_merging_until_it_is_closed(github):
    open_pull(github, 1)
    issue = github.add_issue(ORG, REPO, 50, title="Release freeze", labels=[BLOCKER])
    sync.sync()
    assert merged(github) == []
    assert Pool.objects.get().action == Action.BLOCKED
    status = tide_status(github, 1)
    assert status.state == "error"
    assert status.description == "Not mergeable. Merging is blocked by issue 50."
    issue.state = "closed"
    sync.sync(full=True)
    assert merged(github) == [1]


def test_a_blocker_for_another_branch_does_not_block(github):
    open_pull(github, 1)
    github.add_issue(ORG, REPO, 50, title="Freeze branch:release-1.0", labels=[BLOCKER])
    sync.sync()
    assert merged(github) == [1]


def test_branch_protection_contexts_are_required(github):
    github.protect_branch(ORG, REPO, "main", contexts=["security-scan"])
    open_pull(github, 1)
    sync.sync()
    assert merged(github) == []
    assert (
        tide_status(github, 1).description
        == "Not mergeable. Job security-scan has not succeeded."
    )
    head = github.pull(ORG, REPO, 1).head_sha
    github.set_status(ORG, REPO, head, "security-scan", "success")
    sync.sync(full=True)
    assert merged(github) == [1]


def test_a_merge_github_refuses_is_recorded_and_tried_again(github):
    open_pull(github, 1)
    github.fail_next("PUT", f"/repos/{ORG}/{REPO}/pulls/1/merge", status=405)
    sync.sync()
    assert not github.pull(ORG, REPO, 1).merged
    record = HistoryRecord.objects.get()
    assert record.action == Action.MERGE and record.error
    sync.sync(full=True)
    assert github.pull(ORG, REPO, 1).merged


def test_overlapping_syncs_merge_once(github):
    for number in (1, 2, 3):
        open_pull(github, number)
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            sync.sync(full=True)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    attempts = [r.path for r in github.requests("PUT") if r.path.endswith("/merge")]
    assert len(attempts) == len(set(attempts)) == 1


def test_a_sync_that_read_before_a_merge_does_not_act_on_stale_data(github):
    open_pull(github, 1)
    config = sync.active_config().config
    tips, blockers, read_started, _ = sync.read_github(config, full=True)
    sync.sync(full=True)  # a later sync merges #1
    assert merged(github) == [1]
    (tip_,) = tips.values()
    assert sync.sync_pool(config, tip_, blockers, read_started) is None
    assert len([r for r in github.requests("PUT") if r.path.endswith("/merge")]) == 1


def test_a_repository_deleted_since_it_was_tracked_does_not_stop_the_others(
    github, activate_config
):
    github.add_repo(ORG, "old")
    github.add_branch(ORG, "old", "main", BASE)
    activate_config(
        config_yaml=CONFIG.replace(f"[{ORG}/{REPO}]", f"[{ORG}/{REPO}, {ORG}/old]")
    )
    github.add_pull(ORG, "old", 9, "dev", "9" * 40, labels=("lgtm",))
    sync.sync()
    assert Pool.objects.filter(repo="old").exists()
    with github._lock:
        del github._repos[(ORG, "old")]
    open_pull(github, 1)
    sync.sync(full=True)
    assert merged(github) == [1]
    assert not Pool.objects.filter(repo="old").exists()


def test_a_periodic_sync_github_cannot_answer_waits_a_period(github):
    github.fail_next("POST", "/graphql", status=502, times=10)
    tasks.tick()  # no exception: the failure is logged, not raised
    asked = len(github.requests("POST", "/graphql"))
    assert asked >= 1
    tasks.tick()  # not due again yet: GitHub is not asked again
    assert len(github.requests("POST", "/graphql")) == asked
