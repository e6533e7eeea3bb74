"""A job's artifacts cannot stall plank: entries, name lengths and total size
are capped (the job's log says what was left out), and each job of a sync
batch is synced on its own."""

import pytest

from jobs import plank
from jobs.executors.kubernetes import forget_connections, unpack_artifacts
from jobs.executors.local import LocalExecutor
from jobs.logs import artifact_text
from jobs.models import JobArtifact
from jobs.tasks import sync_prowjobs
from prow.config.validation import validate
from tests.factories import ProwJobFactory
from tests.fakes.kube import FakeKube
from tests.jobs.test_artifacts_kube import REPORT, archive, member

NS = "test-pods"


@pytest.fixture
def kube(tmp_path, settings):
    fake = FakeKube(namespaces=(NS,)).start()
    kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig", contexts=("default",))
    settings.KUBECONFIG = str(kubeconfig)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PROW_EXTERNAL_URL = "https://prow.example.com"
    forget_connections()
    yield fake
    fake.stop()
    forget_connections()


def decorated_job(name="unit"):
    return ProwJobFactory(
        job=name,
        namespace=NS,
        decoration_config={},
        pod_spec={"containers": [{"image": "golang", "command": ["go", "test"]}]},
    )


def finish(kube, job, artifacts_text: str):
    plank.sync_job(job.pk)
    job.refresh_from_db()
    assert job.state == "pending"
    kube.set_log(NS, job.pod_name, "test", "PASS\n")
    kube.set_log(NS, job.pod_name, "artifacts", artifacts_text)
    kube.succeed(NS, job.pod_name)


def build_log(job) -> str:
    return artifact_text(JobArtifact.objects.get(job=job, name="build-log.txt"))


def test_entries_past_the_cap_are_not_walked(tmp_path):
    files = {f"f{i:03}.txt": b"x" for i in range(50)}
    kept = unpack_artifacts(archive(tmp_path, files), 1 << 20, max_files=10)
    # The archive's "." folder is an entry too.
    assert len(kept) == 9
    assert kept.left_out == ["more than 10 files"]


def test_the_size_cap_is_reported(tmp_path):
    files = {"a.txt": b"a" * 60, "b.txt": b"b" * 60}
    kept = unpack_artifacts(archive(tmp_path, files), 100)
    assert [name for name, _ in kept] == ["a.txt"]
    assert kept.left_out == ["more than 100 bytes in all"]


@pytest.mark.django_db
def test_a_name_too_long_is_left_out_and_said_in_the_log(
    kube, tmp_path, activate_config
):
    activate_config(config_yaml=f"pod_namespace: {NS}\n")
    job = decorated_job()
    long_part = "n" * 240
    deep = "/".join(["d" * 100] * 4) + "/x.txt"
    hostile = [member(long_part, data=b"1"), member(deep, data=b"2")]
    finish(kube, job, archive(tmp_path, {"junit/report.xml": REPORT}, hostile))

    plank.sync_job(job.pk)

    job.refresh_from_db()
    assert job.state == "success"
    names = set(JobArtifact.objects.filter(job=job).values_list("name", flat=True))
    assert "artifacts/junit/report.xml" in names
    assert not any(long_part in name or "d" * 100 in name for name in names)
    log = build_log(job)
    assert log.startswith("PASS\n")
    assert "artifacts were not kept" in log
    assert "name too long" in log


@pytest.mark.django_db
def test_too_many_files_are_capped_with_a_note(
    kube, tmp_path, activate_config, settings
):
    settings.PROW_ARTIFACTS_MAX_FILES = 5
    activate_config(config_yaml=f"pod_namespace: {NS}\n")
    job = decorated_job()
    files = {f"f{i:02}.txt": b"x" for i in range(20)}
    finish(kube, job, archive(tmp_path, files))

    plank.sync_job(job.pk)

    job.refresh_from_db()
    assert job.state == "success"
    kept = JobArtifact.objects.filter(job=job, name__startswith="artifacts/")
    assert 0 < kept.count() <= 5
    assert "more than 5 files" in build_log(job)


@pytest.mark.django_db
def test_one_failing_job_does_not_stop_its_batch(kube, activate_config, monkeypatch):
    activate_config(config_yaml=f"pod_namespace: {NS}\n")
    broken, first, second = (decorated_job(f"job-{i}") for i in range(3))
    real = plank.sync_job

    def sync_job(job_id):
        if job_id == broken.pk:
            raise OSError(36, "File name too long")
        real(job_id)

    monkeypatch.setattr(plank, "sync_job", sync_job)

    sync_prowjobs.apply(args=([broken.pk, first.pk, second.pk],))

    for job in (first, second):
        job.refresh_from_db()
        assert job.state == "pending"
        assert job.pod_name
    broken.refresh_from_db()
    assert broken.state == "triggered"


def test_the_artifacts_container_name_is_reserved():
    config = """\
presubmits:
  org/repo:
  - name: unit
    decorate: true
    spec:
      containers:
      - name: test
        image: alpine
        command: [go]
      - name: artifacts
        image: alpine
        command: [sh]
"""
    result = validate(config, "")
    assert not result.ok
    assert any("'artifacts' is reserved" in str(error) for error in result.errors)


def test_the_local_executor_caps_files_and_ignores_links(tmp_path):
    executor = LocalExecutor(tmp_path / "pods", allow_pull_requests=False)
    folder = executor._dir(NS, "pod") / "volumes" / "logs" / "artifacts"
    folder.mkdir(parents=True)
    for i in range(4):
        (folder / f"f{i}.txt").write_bytes(b"x")
    secret = tmp_path / "secret"
    secret.write_text("token")
    (folder / "link").symlink_to(secret)

    capped = executor.artifacts(NS, "pod", 1 << 20, max_files=2)
    assert [name for name, _ in capped] == ["f0.txt", "f1.txt"]
    assert capped.left_out == ["more than 2 files"]
    everything = executor.artifacts(NS, "pod", 1 << 20)
    assert "link" not in dict(everything)
