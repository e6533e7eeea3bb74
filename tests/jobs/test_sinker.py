"""Sinker: old ProwJobs, their stored files and pods go; what is running,
recent, or the last run of a periodic stays. (Old webhook deliveries are
hook's: tests/hook/test_retention.py.)"""

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import yaml
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import sinker
from jobs.executors.kubernetes import forget_connections
from jobs.logs import artifact_store
from jobs.models import BuildCounter, JobArtifact, ProwJob
from prow.config.active import active_config
from prow.locks import lock_key
from tests.factories import ProwJobFactory
from tests.fakes.kube import FakeKube

pytestmark = pytest.mark.django_db

NS = "test-pods"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CONFIG = f"pod_namespace: {NS}\n"
PERIODIC = """
periodics:
- name: nightly
  interval: 24h
  spec: {containers: [{image: golang, command: [make]}]}
"""


def ended(name="unit", *, age: timedelta, now=NOW, **fields) -> ProwJob:
    """A run that started `age` before `now` and took five minutes."""
    return ProwJobFactory(
        finished=True,
        job=name,
        start_time=now - age,
        duration=timedelta(minutes=5),
        **fields,
    )


def exists(*jobs: ProwJob) -> list[bool]:
    return [ProwJob.objects.filter(pk=j.pk).exists() for j in jobs]


@pytest.fixture(autouse=True)
def no_cluster(settings, tmp_path, monkeypatch, activate_config):
    # Unless a test starts the Kubernetes double, pods are the local
    # executor's, in a folder of the test's own.
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    settings.KUBECONFIG = ""
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "media"
    activate_config(config_yaml=CONFIG)


# ProwJobs --------------------------------------------------------------------


def test_complete_jobs_older_than_a_week_go_and_the_rest_stay():
    old = ended(age=timedelta(days=8))
    young = ended(age=timedelta(days=6))
    # Started long ago and still running: never deleted, whatever its age.
    running = ProwJobFactory(
        pending=True, job="unit", start_time=NOW - timedelta(days=30)
    )

    report = sinker.sweep(now=NOW)

    assert exists(old, young, running) == [False, True, True]
    assert report.prowjobs == 1
    assert report.prowjob_names == [f"unit/{old.name}"]


def test_max_prowjob_age_comes_from_the_config(activate_config):
    activate_config(config_yaml=CONFIG + "sinker:\n  max_prowjob_age: 48h\n")
    three_days = ended(age=timedelta(days=3))
    one_day = ended(age=timedelta(days=1))

    sinker.sweep(now=NOW)

    assert exists(three_days, one_day) == [False, True]


def test_newest_complete_run_of_a_configured_periodic_is_kept(activate_config):
    activate_config(config_yaml=CONFIG + PERIODIC)
    # Created first, so "newest" must come from start_time, not the id.
    newest = ended("nightly", age=timedelta(days=10), periodic=True)
    older = ended("nightly", age=timedelta(days=20), periodic=True)
    oldest = ended("nightly", age=timedelta(days=30), periodic=True)
    # A newer run still going does not take the protection away from the
    # last one that finished.
    running = ProwJobFactory(
        periodic=True, pending=True, job="nightly", start_time=NOW - timedelta(hours=1)
    )

    sinker.sweep(now=NOW)

    assert exists(newest, older, oldest, running) == [True, False, False, True]


def test_a_periodic_removed_from_the_config_loses_its_last_run(activate_config):
    activate_config(config_yaml=CONFIG + PERIODIC)
    gone = ended("weekly", age=timedelta(days=10), periodic=True)
    kept = ended("nightly", age=timedelta(days=10), periodic=True)

    sinker.sweep(now=NOW)

    # weekly is not in the config: horologium no longer needs its last run.
    assert exists(gone, kept) == [False, True]


def test_stored_files_of_deleted_jobs_are_removed():
    old = ended(age=timedelta(days=8))
    young = ended(age=timedelta(days=1))
    old_log = artifact_store(old, "build-log.txt", "old\n", limit=100, complete=True)
    artifact_store(old, "clonerefs-log.txt", "cloned\n", limit=100, complete=True)
    young_log = artifact_store(
        young, "build-log.txt", "young\n", limit=100, complete=True
    )
    old_folder = Path(default_storage.path(old_log.file.name)).parent
    assert old_folder.is_dir()

    report = sinker.sweep(now=NOW)

    assert report.artifacts == 2
    assert not old_folder.exists()
    assert not JobArtifact.objects.filter(job_id=old.pk).exists()
    assert default_storage.exists(young_log.file.name)
    assert JobArtifact.objects.filter(pk=young_log.pk).exists()


def test_a_job_whose_file_cannot_be_deleted_stays_for_the_next_sweep(monkeypatch):
    stuck = ended(age=timedelta(days=8))
    fine = ended(age=timedelta(days=9))
    stuck_log = artifact_store(stuck, "build-log.txt", "1", limit=100, complete=True)
    artifact_store(fine, "build-log.txt", "2", limit=100, complete=True)
    delete = default_storage.delete

    def flaky(name):
        if name == stuck_log.file.name:
            raise OSError("bucket says no")
        delete(name)

    monkeypatch.setattr(default_storage, "delete", flaky)

    report = sinker.sweep(now=NOW)

    # Deleting its row would leave the file behind with nothing pointing at it.
    assert exists(stuck, fine) == [True, False]
    assert report.prowjobs == 1
    assert report.error_count == 1 and "bucket says no" in report.errors[0]
    assert "1 errors" in report.summary()


def test_with_storage_down_no_job_is_deleted(monkeypatch):
    jobs = [ended(age=timedelta(days=8 + n)) for n in range(3)]
    for j in jobs:
        artifact_store(j, "build-log.txt", "x", limit=100, complete=True)

    def down(name):
        raise OSError("unreachable")

    monkeypatch.setattr(default_storage, "delete", down)

    report = sinker.sweep(now=NOW, batch_size=1)

    assert all(exists(*jobs))
    # One batch failed whole; the sweep did not go on to try every file.
    assert report.error_count == 2
    assert "storage refuses deletions" in report.errors[-1]


def test_jobs_go_in_batches_of_the_given_size():
    jobs = [ended(age=timedelta(days=8 + n)) for n in range(10)]
    keep = ended(age=timedelta(days=1))

    with CaptureQueriesContext(connection) as queries:
        report = sinker.sweep(now=NOW, batch_size=3)

    assert report.prowjobs == 10
    assert not any(exists(*jobs))
    assert exists(keep) == [True]
    deletes = [q for q in queries if q["sql"].startswith('DELETE FROM "jobs_prowjob"')]
    assert len(deletes) == 4  # 3 + 3 + 3 + 1


def test_a_batch_is_one_delete_however_large():
    # Unsaved, then inserted in one statement: 250 saves would be slow.
    ProwJob.objects.bulk_create(
        ProwJobFactory.build_batch(
            250,
            finished=True,
            job="unit",
            start_time=NOW - timedelta(days=8),
            duration=timedelta(0),
        )
    )

    with CaptureQueriesContext(connection) as queries:
        report = sinker.sweep(now=NOW, batch_size=250)

    assert report.prowjobs == 250
    # Django's cascade would send one DELETE per 100 rows.
    deletes = [q for q in queries if q["sql"].startswith('DELETE FROM "jobs_prowjob"')]
    assert len(deletes) == 1


def test_with_another_table_referring_to_jobs_django_does_the_cascade(monkeypatch):
    # A relation added later must get its on_delete applied, which the
    # one-statement delete would skip.
    class Referrer:
        related_model = BuildCounter

    related = (*ProwJob._meta.related_objects, Referrer())
    monkeypatch.setattr(ProwJob._meta, "related_objects", related)
    old = ended(age=timedelta(days=8))
    artifact_store(old, "build-log.txt", "old\n", limit=100, complete=True)

    with CaptureQueriesContext(connection) as queries:
        report = sinker.sweep(now=NOW)

    assert report.prowjobs == 1
    assert exists(old) == [False]
    assert not JobArtifact.objects.exists()
    assert any('"jobs_prowjob"."id" IN' in q["sql"] for q in queries)


def test_dry_run_lists_what_would_go_and_deletes_nothing(activate_config):
    activate_config(config_yaml=CONFIG + PERIODIC)
    old = ended(age=timedelta(days=8))
    log = artifact_store(old, "build-log.txt", "old\n", limit=100, complete=True)
    ended("nightly", age=timedelta(days=9), periodic=True)

    report = sinker.sweep(now=NOW, dry_run=True, batch_size=1)

    assert report.dry_run
    assert (report.prowjobs, report.artifacts) == (1, 1)
    assert report.prowjob_names == [f"unit/{old.name}"]
    assert report.summary().startswith("would delete 1 prowjobs")
    assert exists(old) == [True]
    assert default_storage.exists(log.file.name)


def test_management_command_prints_the_report(capsys):
    old = ended(age=timedelta(days=8), now=timezone.now())

    call_command("sinker", "--dry-run")

    out = capsys.readouterr().out
    assert "would delete 1 prowjobs" in out
    assert f"unit/{old.name}" in out
    assert exists(old) == [True]


# Pods ------------------------------------------------------------------------


def pod(name: str, *, prow: bool = True, job_id: str | None = None) -> dict:
    labels = {"created-by-prow": "true"} if prow else {"app": "someone-else"}
    if job_id:
        labels["prow.k8s.io/id"] = job_id
    return {
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {"containers": [{"name": "test", "image": "golang"}]},
    }


def pod_names(kube: FakeKube) -> set[str]:
    return {p["metadata"]["name"] for p in kube.pods(NS)}


def merge_kubeconfigs(path: Path, *parts: Path) -> Path:
    """One kubeconfig with the contexts of several (one per fake cluster)."""
    docs = [yaml.safe_load(part.read_text()) for part in parts]
    merged = dict(docs[0])
    for key in ("clusters", "users", "contexts"):
        merged[key] = [entry for doc in docs for entry in doc[key]]
    path.write_text(yaml.safe_dump(merged))
    return path


@pytest.fixture
def kube(tmp_path, settings):
    default = FakeKube(namespaces=(NS,)).start()
    build2 = FakeKube(namespaces=(NS,)).start()
    settings.KUBECONFIG = str(
        merge_kubeconfigs(
            tmp_path / "kubeconfig",
            default.write_kubeconfig(tmp_path / "default", contexts=("default",)),
            build2.write_kubeconfig(tmp_path / "build2", contexts=("build2",)),
        )
    )
    forget_connections()
    yield default, build2
    default.stop()
    build2.stop()
    forget_connections()


def test_pod_of_a_job_finished_longer_than_the_ttl_ago_goes(kube):
    default, _ = kube
    now = timezone.now()
    finished = ended(age=timedelta(hours=25), now=now)
    recent = ended(age=timedelta(hours=1), now=now)
    default.add_pod(pod(str(finished.name)))
    default.add_pod(pod(str(recent.name)))

    report = sinker.sweep(now=now)

    # Both pods were just created; only the job's completion time differs.
    assert pod_names(default) == {str(recent.name)}
    assert report.pods == 1
    assert report.pod_names == [f"default/{NS}/{finished.name} (terminated_pod_ttl)"]


def test_pod_older_than_max_pod_age_goes_once_its_job_is_complete(
    kube, activate_config
):
    default, _ = kube
    activate_config(config_yaml=CONFIG + "sinker:\n  terminated_pod_ttl: 1000h\n")
    # The double stamps pods with the real time; look from a day later.
    later = timezone.now() + timedelta(hours=25)
    complete = ended(age=timedelta(hours=1), now=later)
    running = ProwJobFactory(
        pending=True, job="unit", start_time=later - timedelta(hours=26)
    )
    default.add_pod(pod("renamed", job_id=str(complete.name)))
    default.add_pod(pod(str(running.name)))

    report = sinker.sweep(now=later)

    # The id label names the job, whatever the pod is called; the running
    # job's pod stays however old it is.
    assert pod_names(default) == {str(running.name)}
    assert report.pod_names == [f"default/{NS}/renamed (max_pod_age)"]


def test_orphan_pods_go_after_a_grace_period_and_foreign_pods_stay(kube):
    default, _ = kube
    nobody = str(uuid.uuid4())
    default.add_pod(pod("orphan", job_id=nobody))
    default.add_pod(pod("not-ours", prow=False, job_id=nobody))

    fresh = sinker.sweep(now=timezone.now())
    assert pod_names(default) == {"orphan", "not-ours"}
    assert fresh.pods == 0

    report = sinker.sweep(now=timezone.now() + timedelta(minutes=1))

    assert pod_names(default) == {"not-ours"}
    assert (report.pods, report.orphan_pods) == (1, 1)
    deletes = default.requests("DELETE")
    assert [r.path.rsplit("/", 1)[1] for r in deletes] == ["orphan"]


def test_pods_are_looked_up_in_one_query(kube):
    default, _ = kube
    now = timezone.now()
    for _ in range(20):
        default.add_pod(pod(str(ended(age=timedelta(hours=30), now=now).name)))

    with CaptureQueriesContext(connection) as queries:
        report = sinker.sweep(now=now)

    assert report.pods == 20
    lookups = [
        q
        for q in queries
        if 'FROM "jobs_prowjob" WHERE "jobs_prowjob"."name" IN' in q["sql"]
    ]
    assert len(lookups) == 1


def test_excluded_cluster_is_left_alone(kube, activate_config):
    default, build2 = kube
    activate_config(config_yaml=CONFIG + "sinker:\n  exclude_clusters: [build2]\n")
    now = timezone.now()
    finished = ended(age=timedelta(days=2), now=now)
    default.add_pod(pod("a", job_id=str(finished.name)))
    build2.add_pod(pod("b", job_id=str(finished.name)))

    sinker.sweep(now=now)

    assert pod_names(default) == set()
    assert pod_names(build2) == {"b"}
    assert build2.requests() == []


def test_every_cluster_not_excluded_is_swept(kube):
    default, build2 = kube
    now = timezone.now()
    build2.add_pod(pod("b", job_id=str(ended(age=timedelta(days=2), now=now).name)))

    sinker.sweep(now=now)

    assert pod_names(build2) == set()
    assert {r.context for r in build2.requests("GET")} == {"build2"}


def test_default_is_not_swept_twice_when_it_is_a_named_context(
    tmp_path, settings, activate_config
):
    with FakeKube(namespaces=(NS,)) as fake:
        path = fake.write_kubeconfig(tmp_path / "kc", contexts=("main", "build2"))
    settings.KUBECONFIG = str(path)

    # "default" is "main" (the current context) under another name.
    assert sinker.build_clusters(active_config().config) == ["build2", "main"]
    activate_config(config_yaml=CONFIG + "sinker:\n  exclude_clusters: [default]\n")
    assert sinker.build_clusters(active_config().config) == ["build2"]


def test_dry_run_keeps_pods(kube):
    default, _ = kube
    default.add_pod(pod("orphan", job_id=str(uuid.uuid4())))

    report = sinker.sweep(now=timezone.now() + timedelta(minutes=1), dry_run=True)

    assert report.pod_names == [f"default/{NS}/orphan (orphan)"]
    assert pod_names(default) == {"orphan"}
    assert default.requests("DELETE") == []


def test_an_unreachable_cluster_is_reported_and_the_others_still_swept(kube):
    default, build2 = kube
    now = timezone.now()
    finished = ended(age=timedelta(days=2), now=now)
    default.fail_next("GET", "/pods$", status=500)
    build2.add_pod(pod("b", job_id=str(finished.name)))

    report = sinker.sweep(now=now)

    assert pod_names(build2) == set()
    assert len(report.errors) == 1 and "cluster default" in report.errors[0]


def test_without_a_cluster_the_local_executors_pods_are_swept(settings):
    folder = settings.DATA_DIR / "local-pods" / NS / "orphan"
    folder.mkdir(parents=True)
    (folder / "pod.json").write_text(
        json.dumps(pod("orphan", job_id=str(uuid.uuid4())))
    )

    report = sinker.sweep(now=timezone.now() + timedelta(minutes=1))

    assert report.pod_names == [f"default/{NS}/orphan (orphan)"]
    assert not folder.exists()


# Overlap ---------------------------------------------------------------------


def _other_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    return psycopg.connect(
        **{
            k: v
            for k, v in params.items()
            if k in ("host", "port", "user", "password", "dbname")
        },
        autocommit=True,
    )


@pytest.mark.django_db(transaction=True)
def test_a_second_sweep_while_one_runs_does_nothing():
    old = ended(age=timedelta(days=8))
    with _other_connection() as other:
        # try, not wait: a lock some earlier sweep failed to release makes
        # this fail here instead of hanging.
        held = other.execute(
            "SELECT pg_try_advisory_lock(%s)", [lock_key(sinker.LOCK_NAME)]
        ).fetchone()[0]
        assert held is True

        report = sinker.sweep(now=NOW)

        assert report.skipped == sinker.ALREADY_RUNNING
        assert "already running" in report.summary()
        assert exists(old) == [True]
        other.execute("SELECT pg_advisory_unlock(%s)", [lock_key(sinker.LOCK_NAME)])

    assert sinker.sweep(now=NOW).prowjobs == 1
    # The finished sweep let go of its lock: another may take it.
    with _other_connection() as other:
        taken = other.execute(
            "SELECT pg_try_advisory_lock(%s)", [lock_key(sinker.LOCK_NAME)]
        ).fetchone()[0]
    assert taken is True
