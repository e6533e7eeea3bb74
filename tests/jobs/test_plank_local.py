"""Plank with the local executor: real processes on this machine."""

import time

import pytest

from jobs.logs import artifact_text
from jobs.models import JobArtifact, ProwJob
from jobs.plank import sync_job
from jobs.services import periodic_fields, prowjob_abort, prowjob_create
from prow.config.validation import validate
from tests.conftest import EXAMPLES
from tests.factories import ProwJobFactory
from tests.processes import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local(settings, tmp_path, monkeypatch):
    settings.KUBECONFIG = ""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PROW_LOG_SNAPSHOT_SECONDS = 0
    settings.PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS = False
    return tmp_path


def periodic(command, name="job"):
    return ProwJobFactory(
        periodic=True,
        job=name,
        pod_spec={"containers": [{"image": "x", "command": command}]},
    )


def run_until_done(job, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sync_job(job.pk)
        job.refresh_from_db()
        if job.completion_time:
            return job
        time.sleep(0.2)
    raise AssertionError(f"{job.job} still {job.state} after {timeout}s")


def log_of(job):
    return artifact_text(JobArtifact.objects.get(job=job, name="build-log.txt"))


def test_the_seed_echo_test_periodic_runs_here():
    # Made as horologium makes it from the seed config, so what runs here is
    # what the deployment runs.
    config = validate((EXAMPLES / "config.yaml").read_text(), "").config
    (echo,) = config.periodics
    job = prowjob_create(fields=periodic_fields(echo, config))
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.state == "pending"
    assert job.description == "Job triggered."
    assert job.build_id == "1"
    assert job.pod_name == str(job.name)
    assert job.pending_time is not None
    job = run_until_done(job)
    assert job.state == "success"
    assert job.description == "Job succeeded."
    # /bin/date printed today's date.
    assert time.strftime("%Y") in log_of(job)


def test_a_failing_command_fails_the_job_and_keeps_its_log():
    job = run_until_done(periodic(["/bin/sh", "-c", "echo broken; exit 3"]))
    assert job.state == "failure"
    assert job.description == "Job failed."
    assert "broken" in log_of(job)


def test_env_reaches_the_process():
    job = run_until_done(
        periodic(["/bin/sh", "-c", 'echo "$JOB_NAME $JOB_TYPE $BUILD_ID"'], name="envy")
    )
    assert log_of(job).strip() == "envy periodic 1"


def test_pull_request_code_is_refused_unless_allowed(settings):
    spec = {"containers": [{"image": "x", "command": ["true"]}]}
    job = ProwJobFactory(job="unit", pod_spec=spec)
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.state == "error"
    assert "PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS" in job.description
    settings.PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS = True
    job = ProwJobFactory(job="unit", pod_spec=spec)
    assert run_until_done(job).state == "success"


def test_abort_kills_the_process_and_keeps_the_log(local):
    job = periodic(["/bin/sh", "-c", "echo started; sleep 60"])
    sync_job(job.pk)
    job.refresh_from_db()
    pod = local / "local-pods" / job.namespace / str(job.name)
    wait_until(
        lambda: "started" in read(pod / "logs" / "test.log"),
        10,
        what="the job to start",
    )
    assert prowjob_abort(job, "admin aborted this job.")
    sync_job(job.pk)
    assert not pod.exists()
    assert "started" in log_of(ProwJob.objects.get(pk=job.pk))


def read(path):
    try:
        return path.read_text(errors="ignore")
    except OSError:
        return ""


def test_files_left_in_artifacts_are_kept():
    # A decorated job gets $ARTIFACTS; the clone step has no code to fetch.
    # With no plank defaults to merge, its decoration config is empty.
    job = ProwJobFactory(
        periodic=True,
        job="arts",
        decoration_config={},
        pod_spec={
            "containers": [
                {
                    "image": "x",
                    "command": ["/bin/sh", "-c"],
                    "args": [
                        'mkdir -p "$ARTIFACTS/junit" && echo "<ok/>" > "$ARTIFACTS/junit/report.xml"'
                    ],
                }
            ]
        },
    )
    job = run_until_done(job)
    assert job.state == "success", log_of(job)
    artifact = JobArtifact.objects.get(job=job, name="artifacts/junit/report.xml")
    assert artifact.file.read() == b"<ok/>\n"
