"""Creating ProwJobs and moving them through their states."""

import threading

import pytest
from django.db import connection

from jobs.models import ProwJob, ProwJobState
from jobs.services import (
    InvalidTransition,
    allocate_build_id,
    periodic_fields,
    presubmit_fields,
    prowjob_abort,
    prowjob_create,
    prowjob_transition,
)
from prow.config.schema import Periodic, Presubmit, ProwConfig
from tests.jobs.refs import REFS

pytestmark = pytest.mark.django_db


def new_job(**config) -> ProwJob:
    job = Presubmit(name="unit", spec={"containers": [{"image": "a"}]}, **config)
    return prowjob_create(
        fields=presubmit_fields(job, REFS, ProwConfig(pod_namespace="test-pods"))
    )


def test_created_job_is_triggered_with_denormalised_columns():
    job = new_job(path_alias="example.com/app")
    assert job.state == ProwJobState.TRIGGERED
    assert job.namespace == "test-pods"
    assert (job.org, job.repo, job.base_ref, job.pull_number, job.pull_sha) == (
        "acme",
        "app",
        "main",
        7,
        "a" * 40,
    )
    assert job.refs["path_alias"] == "example.com/app"
    assert job.labels["prow.k8s.io/refs.pull"] == "7"
    assert job.labels["created-by-prow"] == "true"


def test_transitions_stamp_times_and_completed_jobs_never_change():
    job = new_job()
    assert prowjob_transition(job, ProwJobState.PENDING, description="Job triggered.")
    assert job.pending_time is not None
    assert prowjob_transition(job, ProwJobState.SUCCESS, description="Job succeeded.")
    job.refresh_from_db()
    assert job.state == "success" and job.completion_time is not None
    for state in ProwJobState.values:
        with pytest.raises(InvalidTransition):
            prowjob_transition(job, state)


def test_triggered_cannot_jump_to_success():
    with pytest.raises(InvalidTransition):
        prowjob_transition(new_job(), ProwJobState.SUCCESS)


def test_a_stale_view_does_not_overwrite_a_newer_state():
    job = new_job()
    stale = ProwJob.objects.get(pk=job.pk)
    assert prowjob_transition(job, ProwJobState.PENDING)
    # The other copy still believes the job is triggered: its move fails.
    assert prowjob_transition(stale, ProwJobState.ABORTED) is False
    job.refresh_from_db()
    assert job.state == "pending"


def test_abort_unreported_marks_the_reporter_state():
    job = new_job()
    assert prowjob_abort(job, "superseded", report=False)
    job.refresh_from_db()
    assert job.state == "aborted"
    assert job.prev_report_states == {"github-reporter": "aborted"}
    assert prowjob_abort(job, "again") is False


def test_periodic_job_has_no_refs_and_reports():
    periodic = Periodic(
        name="nightly", interval="24h", spec={"containers": [{"image": "a"}]}
    )
    job = prowjob_create(fields=periodic_fields(periodic, ProwConfig()))
    assert job.type == "periodic" and job.refs is None and job.report is True


def test_decoration_merges_plank_defaults():
    config = ProwConfig.model_validate(
        {
            "plank": {
                "default_decoration_configs": {
                    "*": {"timeout": "2h", "utility_images": {"clonerefs": "c:1"}},
                    "acme": {"timeout": "3h"},
                }
            }
        }
    )
    job = Presubmit(
        name="unit",
        decorate=True,
        decoration_config={"grace_period": "15s"},
        spec={"containers": [{"image": "a", "command": ["x"]}]},
    )
    fields = presubmit_fields(job, REFS, config)
    assert fields["decoration_config"] == {
        "timeout": "3h",
        "utility_images": {"clonerefs": "c:1"},
        "grace_period": "15s",
    }
    assert (
        presubmit_fields(job.model_copy(update={"decorate": False}), REFS, config)[
            "decoration_config"
        ]
        is None
    )


def test_build_ids_increase_per_job():
    assert [allocate_build_id("a") for _ in range(3)] == ["1", "2", "3"]
    assert allocate_build_id("b") == "1"


@pytest.mark.django_db(transaction=True)
def test_build_ids_are_unique_under_concurrency():
    ids = []

    def take():
        try:
            for _ in range(10):
                ids.append(allocate_build_id("busy"))
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(int, ids)) == list(range(1, 41))
