"""$ARTIFACTS kept through the pod's "artifacts" sidecar: the executor
unpacks the sidecar's log, and plank stores the files once the job is done."""

import base64
import io
import os
import tarfile

import pytest

from jobs.executors.kubernetes import (
    forget_connections,
    kubernetes_executor,
    unpack_artifacts,
)
from jobs.models import JobArtifact
from jobs.plank import sync_job
from tests.factories import ProwJobFactory
from tests.fakes.kube import FakeKube

NS = "test-pods"
REPORT = b'<testsuite name="unit" tests="1"/>\n'


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


@pytest.fixture
def executor(kube, settings):
    return kubernetes_executor(settings.KUBECONFIG, "default")


def archive(tmp_path, files: dict[str, bytes], extra=()) -> str:
    """base64(tar.gz) of `files` built in tmp_path, as the sidecar prints it
    (busybox wraps at 76 columns); `extra` are (TarInfo, bytes) added as is."""
    root = tmp_path / "artifacts"
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        root.mkdir(exist_ok=True)
        tar.add(root, arcname=".")
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data else None)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return "".join(encoded[i : i + 76] + "\n" for i in range(0, len(encoded), 76))


def add_pod(kube, name="unit-1", containers=("test", "artifacts")):
    kube.add_pod(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {"name": c, "image": "alpine", "command": ["true"]}
                    for c in containers
                ],
            },
        }
    )
    kube.succeed(NS, name)
    return name


def member(name, kind=tarfile.REGTYPE, data=b"", link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    return info, data


# --- the executor -----------------------------------------------------------


def test_files_come_back_with_their_relative_paths(kube, executor, tmp_path):
    name = add_pod(kube)
    files = {"junit/report.xml": REPORT, "coverage.out": b"mode: set\n"}
    kube.set_log(NS, name, "artifacts", archive(tmp_path, files))
    assert dict(executor.artifacts(NS, name, 1 << 20)) == files


def test_hostile_members_are_skipped(kube, executor, tmp_path):
    name = add_pod(kube)
    hostile = [
        member("../x", data=b"escape"),
        member("./a/../../y", data=b"escape"),
        member("/etc/passwd", data=b"root:x:0:0"),
        member("link", tarfile.SYMTYPE, link="/etc/passwd"),
        member("hard", tarfile.LNKTYPE, link="ok.txt"),
        member("fifo", tarfile.FIFOTYPE),
    ]
    text = archive(tmp_path, {"ok.txt": b"fine"}, hostile)
    kube.set_log(NS, name, "artifacts", text)
    assert executor.artifacts(NS, name, 1 << 20) == [("ok.txt", b"fine")]


def test_the_limit_is_respected(kube, executor, tmp_path):
    name = add_pod(kube)
    files = {"a.txt": b"a" * 60, "b.txt": b"b" * 60, "c.txt": b"c" * 10}
    kube.set_log(NS, name, "artifacts", archive(tmp_path, files))
    kept = executor.artifacts(NS, name, 100)
    assert sum(len(data) for _, data in kept) <= 100
    assert kept == [("a.txt", b"a" * 60)]


def test_no_sidecar_or_nothing_printed_is_no_artifacts(kube, executor):
    bare = add_pod(kube, "bare", containers=("test",))
    assert executor.artifacts(NS, bare, 1 << 20) == []
    empty = add_pod(kube, "empty")
    kube.set_log(NS, empty, "artifacts", "")
    assert executor.artifacts(NS, empty, 1 << 20) == []


@pytest.mark.parametrize(
    "text",
    [
        "not base64 at all!\n",
        base64.b64encode(b"not gzip").decode(),
        base64.b64encode(b"\x1f\x8b\x08\x00garbled").decode(),
    ],
)
def test_a_garbled_log_is_no_artifacts(kube, executor, text):
    name = add_pod(kube)
    kube.set_log(NS, name, "artifacts", text)
    assert executor.artifacts(NS, name, 1 << 20) == []


def test_a_cut_short_log_keeps_the_whole_files(tmp_path):
    # Incompressible, so half the text is about half the files.
    files = {f"f{i}.bin": os.urandom(4096) for i in range(8)}
    text = archive(tmp_path, files)
    kept = dict(unpack_artifacts(text[: len(text) // 2], 1 << 20))
    assert kept and len(kept) < len(files)
    assert all(files[name] == data for name, data in kept.items())


# --- plank ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_decorated_job_keeps_its_artifacts_after_the_pod(
    kube, tmp_path, activate_config
):
    activate_config(config_yaml=f"pod_namespace: {NS}\n")
    # Decorated, with no plank defaults to merge: an empty decoration config.
    job = ProwJobFactory(
        job="unit",
        namespace=NS,
        decoration_config={},
        pod_spec={"containers": [{"image": "golang", "command": ["go", "test"]}]},
    )
    assert job.decoration_config is not None
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.state == "pending"
    (pod,) = kube.pods(NS)
    assert [c["name"] for c in pod["spec"]["containers"]] == ["test", "artifacts"]

    text = archive(tmp_path, {"junit/report.xml": REPORT})
    kube.set_log(NS, job.pod_name, "test", "PASS\n")
    kube.set_log(NS, job.pod_name, "artifacts", text)
    kube.succeed(NS, job.pod_name)
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.state == "success"
    kube.remove(NS, job.pod_name)

    report = JobArtifact.objects.get(job=job, name="artifacts/junit/report.xml")
    with report.file.open("rb") as handle:
        assert handle.read() == REPORT
    names = set(JobArtifact.objects.filter(job=job).values_list("name", flat=True))
    # The sidecar's base64 is not kept as a log of its own.
    assert "artifacts-log.txt" not in names
    assert not any(text[:40] in _read(a) for a in JobArtifact.objects.filter(job=job))


def _read(artifact) -> str:
    with artifact.file.open("rb") as handle:
        return handle.read().decode("utf-8", "replace")
