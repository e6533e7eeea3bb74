"""Plank against the Kubernetes double, through the real kubernetes client."""

import threading
import time

import kubernetes_validate
import pytest
from django.db import connection, transaction

from jobs import plank
from jobs.executors.kubernetes import forget_connections
from jobs.logs import artifact_text
from jobs.models import JobArtifact, ProwJob
from jobs.plank import sync_job
from jobs.services import prowjob_abort
from tests.factories import ProwJobFactory, PullFactory, RefsFactory
from tests.fakes.kube import FakeKube

pytestmark = pytest.mark.django_db

NS = "test-pods"
CONFIG = f"pod_namespace: {NS}\n"


@pytest.fixture(autouse=True)
def kube(tmp_path, settings, activate_config):
    fake = FakeKube(namespaces=(NS,)).start()
    kubeconfig = fake.write_kubeconfig(
        tmp_path / "kubeconfig", contexts=("default", "build2")
    )
    settings.KUBECONFIG = str(kubeconfig)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PROW_EXTERNAL_URL = "https://prow.example.com"
    settings.PROW_LOG_SNAPSHOT_SECONDS = 0
    forget_connections()
    activate_config(config_yaml=CONFIG)
    yield fake
    fake.stop()
    forget_connections()


def new_job(name="unit", pull=7, **fields) -> ProwJob:
    """A triggered presubmit for pull request `pull`, in the config's pod
    namespace."""
    return ProwJobFactory(
        job=name,
        namespace=NS,
        refs=RefsFactory(pulls=[PullFactory(number=pull)]),
        pod_spec={"containers": [{"image": "golang", "command": ["go", "test"]}]},
        **fields,
    )


def synced(job) -> ProwJob:
    sync_job(job.pk)
    job.refresh_from_db()
    return job


def started(kube, job) -> ProwJob:
    job = synced(job)
    assert job.state == "pending"
    return job


def test_triggered_job_gets_its_pod_and_goes_pending(kube):
    job = started(kube, new_job())
    (pod,) = kube.pods(NS)
    assert pod["metadata"]["name"] == str(job.name) == job.pod_name
    labels = pod["metadata"]["labels"]
    assert labels["prow.k8s.io/id"] == str(job.name)
    assert labels["prow.k8s.io/build-id"] == job.build_id == "1"
    assert labels["created-by-prow"] == "true"
    assert pod["spec"]["restartPolicy"] == "Never"
    assert job.description == "Job triggered."
    assert job.pending_time is not None
    assert job.url == f"https://prow.example.com/view/{job.name}"
    kubernetes_validate.validate(pod, "1.30", strict=True)


@pytest.mark.parametrize(
    ("drive", "state", "description"),
    [
        (lambda k, n: k.succeed(NS, n), "success", "Job succeeded."),
        (lambda k, n: k.fail(NS, n, exit_code=2), "failure", "Job failed."),
        (
            lambda k, n: k.set_phase(NS, n, "Succeeded", exit_codes=[1]),
            "error",
            "Pod was in succeeded phase but some containers didn't finish",
        ),
        (
            lambda k, n: k.set_phase(
                NS, n, "Running", reason="OOMKilled", exit_codes=[137]
            ),
            "error",
            "Job pod was OOM killed by the cluster.",
        ),
        (
            lambda k, n: k.set_phase(NS, n, "Pending", reason="ErrImagePull"),
            "error",
            "The image can't be pulled: ErrImagePull",
        ),
    ],
)
def test_pod_outcomes(kube, drive, state, description):
    job = started(kube, new_job())
    kube.set_log(NS, job.pod_name, "test", "ran the tests\n")
    drive(kube, job.pod_name)
    job = synced(job)
    assert job.state == state
    assert job.description.startswith(description)
    assert job.completion_time is not None
    log = JobArtifact.objects.get(job=job, name="build-log.txt")
    assert log.complete


def test_log_is_kept_after_the_pod_is_gone(kube):
    job = started(kube, new_job())
    kube.set_log(NS, job.pod_name, "test", "PASS: everything\n")
    kube.succeed(NS, job.pod_name)
    job = synced(job)
    kube.remove(NS, job.pod_name)
    assert kube.pods(NS) == []
    artifact = JobArtifact.objects.get(job=job, name="build-log.txt")
    assert artifact_text(artifact) == "PASS: everything\n"


def test_a_long_log_is_capped_with_a_note(kube, settings):
    settings.PROW_LOG_MAX_BYTES = 100
    job = started(kube, new_job())
    kube.set_log(NS, job.pod_name, "test", "x" * 500)
    kube.succeed(NS, job.pod_name)
    job = synced(job)
    artifact = JobArtifact.objects.get(job=job, name="build-log.txt")
    text = artifact_text(artifact)
    assert artifact.truncated
    assert text.startswith("x" * 100) and "only its beginning was kept" in text


def test_running_log_is_copied_while_it_runs(kube):
    job = started(kube, new_job())
    kube.run(NS, job.pod_name)
    kube.set_log(NS, job.pod_name, "test", "step 1\n")
    job = synced(job)
    artifact = JobArtifact.objects.get(job=job, name="build-log.txt")
    assert artifact_text(artifact) == "step 1\n" and not artifact.complete


def test_unscheduled_pod_times_out(kube, activate_config):
    activate_config(config_yaml=CONFIG + "plank:\n  pod_unscheduled_timeout: 1s\n")
    job = started(kube, new_job())
    kube.set_unschedulable(NS, job.pod_name)
    assert synced(job).state == "pending"
    time.sleep(1.2)
    job = synced(job)
    assert (job.state, job.description) == ("error", "Pod scheduling timeout.")
    assert kube.pods(NS) == []


def test_pending_pod_times_out(kube, activate_config):
    activate_config(config_yaml=CONFIG + "plank:\n  pod_pending_timeout: 1s\n")
    job = started(kube, new_job())
    kube.set_phase(NS, job.pod_name, "Pending", start_time=True)
    time.sleep(1.2)
    job = synced(job)
    assert (job.state, job.description) == ("error", "Pod pending timeout.")
    assert kube.pods(NS) == []


def test_running_pod_times_out_as_aborted(kube, activate_config):
    activate_config(config_yaml=CONFIG + "plank:\n  pod_running_timeout: 1s\n")
    job = started(kube, new_job())
    kube.run(NS, job.pod_name)
    time.sleep(1.2)
    job = synced(job)
    assert (job.state, job.description) == ("aborted", "Pod running timeout.")
    assert kube.pods(NS) == []


def test_per_job_decoration_timeouts_override_plank(kube, activate_config):
    activate_config(config_yaml=CONFIG + "plank:\n  pod_running_timeout: 1s\n")
    job = started(kube, new_job(decoration_config={"pod_running_timeout": "1h"}))
    kube.run(NS, job.pod_name)
    time.sleep(1.2)
    assert synced(job).state == "pending"


def test_evicted_pod_is_recreated_with_a_new_build_id(kube):
    job = started(kube, new_job())
    kube.set_phase(NS, job.pod_name, "Failed", reason="Evicted")
    job = synced(job)
    assert job.state == "pending"
    assert job.pod_revival_count == 1
    assert job.build_id == "2"
    (pod,) = kube.pods(NS)
    assert pod["metadata"]["labels"]["prow.k8s.io/build-id"] == "2"
    assert "status" not in pod or pod["status"].get("phase") in (None, "Pending")


def test_revivals_run_out(kube, activate_config):
    activate_config(config_yaml=CONFIG + "plank:\n  max_revivals: 1\n")
    job = started(kube, new_job())
    for _ in range(2):
        kube.set_phase(NS, job.pod_name, "Failed", reason="Evicted")
        job = synced(job)
    assert job.state == "error"
    assert job.description == (
        "Job pod reached max revivals (1) after being stopped unexpectedly (Evicted)"
    )


def test_evicted_with_error_on_eviction(kube):
    job = started(kube, new_job(error_on_eviction=True))
    kube.set_phase(NS, job.pod_name, "Failed", reason="Evicted")
    assert synced(job).description == "Job pod was evicted by the cluster."


def test_abort_deletes_the_pod(kube):
    job = started(kube, new_job())
    kube.set_log(NS, job.pod_name, "test", "half way\n")
    assert prowjob_abort(job, "member aborted unit.")
    sync_job(job.pk)
    assert kube.pods(NS) == []
    assert (
        artifact_text(JobArtifact.objects.get(job=job, name="build-log.txt"))
        == "half way\n"
    )


def test_worker_killed_between_pod_creation_and_row_update_makes_no_second_pod(
    kube, monkeypatch
):
    job = new_job()

    def die(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(plank, "prowjob_transition", die)
    with pytest.raises(SystemExit):
        sync_job(job.pk)
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.state == "triggered"  # the row update never happened
    assert len(kube.pods(NS)) == 1
    job = synced(job)
    assert job.state == "pending"
    assert len(kube.pods(NS)) == 1
    # The job records the build id of the pod that exists.
    assert (
        kube.pods(NS)[0]["metadata"]["labels"]["prow.k8s.io/build-id"] == job.build_id
    )
    assert len(kube.requests(method="POST")) == 2  # the second answered 409


def test_refused_pod_is_an_error_and_a_cluster_outage_is_retried(kube):
    job = new_job()
    kube.fail_next("POST", r"/pods$", status=422, reason="Invalid", message="bad spec")
    job = synced(job)
    assert job.state == "error"
    assert job.description.startswith("Pod can not be created: 422")
    job = new_job(name="other")
    kube.fail_next("POST", r"/pods$", status=500)
    assert synced(job).state == "triggered"
    assert synced(job).state == "pending"


def test_unknown_cluster_is_a_terminal_error(kube):
    job = new_job(cluster="nowhere")
    job = synced(job)
    assert job.state == "error"
    assert job.description == "Terminal error: unknown cluster alias 'nowhere'."


def test_jobs_run_in_the_cluster_they_name(kube):
    job = started(kube, new_job(cluster="build2"))
    (create,) = kube.requests(method="POST")
    assert create.context == "build2"
    assert job.cluster == "build2"


def test_max_concurrency_keeps_later_runs_waiting_in_order(kube):
    first = new_job(max_concurrency=1)
    second = new_job(max_concurrency=1, pull=8)
    assert synced(second).state == "triggered"  # the first is ahead of it
    first = started(kube, first)
    assert synced(second).state == "triggered"
    kube.succeed(NS, first.pod_name)
    assert synced(first).state == "success"
    assert synced(second).state == "pending"


def test_job_queue_capacity_is_shared_by_the_jobs_in_the_queue(kube, activate_config):
    activate_config(
        config_yaml=CONFIG + "plank:\n  job_queue_capacities:\n    gpu: 1\n"
    )
    first = new_job("a", job_queue_name="gpu")
    second = new_job("b", job_queue_name="gpu")
    other = new_job("c", job_queue_name="cpu")
    # A queue without a capacity limits nothing.
    assert synced(other).state == "pending"
    assert synced(second).state == "triggered"  # the first is ahead of it
    first = started(kube, first)
    assert synced(second).state == "triggered"
    kube.succeed(NS, first.pod_name)
    assert synced(first).state == "success"
    assert synced(second).state == "pending"


def test_global_limit_is_shared_fairly_between_jobs(kube, activate_config):
    activate_config(config_yaml=CONFIG + "plank:\n  max_concurrency: 2\n")
    a1, a2, b1 = new_job("a"), new_job("a", pull=8), new_job("b")
    for job in (a1, a2, b1):
        sync_job(job.pk)
    states = {j.pk: j.state for j in ProwJob.objects.all()}
    assert states[a1.pk] == "pending"
    assert states[b1.pk] == "pending"
    assert states[a2.pk] == "triggered"


def test_an_older_run_for_the_same_pull_is_superseded_and_not_reported(kube):
    old = started(kube, new_job())
    new = new_job()
    sync_job(new.pk)
    sync_job(old.pk)
    old.refresh_from_db()
    assert old.state == "aborted"
    assert old.prev_report_states == {"github-reporter": "aborted"}
    assert kube.pods(NS) and all(
        p["metadata"]["name"] == str(new.name) for p in kube.pods(NS)
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_act_on_one_job_at_once(kube):
    job = new_job()
    locked = threading.Event()
    release = threading.Event()

    def hold_the_row():
        with transaction.atomic():
            ProwJob.objects.select_for_update().get(pk=job.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    locked.wait(10)
    sync_job(job.pk)  # the other worker holds the job: this one skips it
    job.refresh_from_db()
    assert job.state == "triggered"
    assert kube.pods(NS) == []
    release.set()
    holder.join()
    assert synced(job).state == "pending"
