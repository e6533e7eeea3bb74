"""Local runs as they happened: the job ends when its command exited (not
when plank next looked), plank is told at once, and how each container
ended is kept and shown, with the plain fact that it ran on this host."""

import json
import os
import time
from datetime import timedelta

import pytest
import redis
from django.db import connection

from jobs.logs import artifact_text
from jobs.models import JobArtifact
from jobs.plank import POD_INFO, sync_job
from tests.jobs.test_plank_local import local, periodic, run_until_done  # noqa: F401
from tests.processes import wait_until


def pod_folder(root, job):
    return root / "local-pods" / job.namespace / str(job.name)


def pod_phase(folder) -> str:
    try:
        return json.loads((folder / "status.json").read_text())["phase"]
    except (OSError, ValueError, KeyError):
        return ""


def pod_info(job) -> dict:
    return json.loads(artifact_text(JobArtifact.objects.get(job=job, name=POD_INFO)))


@pytest.mark.django_db
def test_a_job_ends_when_its_command_exited_not_when_plank_looked(local):  # noqa: F811
    job = periodic(["/bin/sh", "-c", "exit 0"])
    sync_job(job.pk)
    job.refresh_from_db()
    folder = pod_folder(local, job)
    wait_until(lambda: pod_phase(folder) == "Succeeded", 10, what="the pod to end")
    time.sleep(3)  # plank looks late, as on a resync tick
    looked = job.pending_time + timedelta(seconds=3)
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.state == "success"
    assert job.completion_time < looked
    assert job.completion_time - job.pending_time < timedelta(seconds=2)


@pytest.mark.django_db
def test_a_run_that_ended_before_plank_recorded_its_pod_keeps_its_order(local):  # noqa: F811
    job = periodic(["/bin/sh", "-c", "exit 0"])
    sync_job(job.pk)
    folder = pod_folder(local, job)
    wait_until(lambda: pod_phase(folder) == "Succeeded", 10, what="the pod to end")
    # As when recording the new pod took longer than the command did.
    job.refresh_from_db()
    type(job).objects.filter(pk=job.pk).update(
        pending_time=job.pending_time + timedelta(seconds=5)
    )
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.state == "success"
    assert job.start_time <= job.pending_time <= job.completion_time


@pytest.mark.django_db
def test_exit_code_and_reason_are_kept_and_shown(local, client):  # noqa: F811
    failed = run_until_done(periodic(["/bin/sh", "-c", "echo broken; exit 3"]))
    assert failed.state == "failure"
    info = pod_info(failed)
    assert info["executor"] == "local"
    assert [(c["name"], c["exit_code"], c["reason"]) for c in info["containers"]] == [
        ("test", 3, "Error")
    ]
    page = client.get(f"/view/{failed.name}").content.decode()
    assert "exit code 3 · Error" in page
    assert "the local executor" in page
    assert "without isolation" in page
    assert "namespace test-pods" not in page

    missing = run_until_done(periodic(["/no/such/binary"], name="missing"))
    (container,) = pod_info(missing)["containers"]
    assert (container["exit_code"], container["reason"]) == (127, "StartError")
    assert "cannot run /no/such/binary" in container["message"]
    page = client.get(f"/view/{missing.name}").content.decode()
    assert "exit code 127 · StartError · cannot run /no/such/binary" in page


@pytest.mark.django_db
def test_a_running_local_job_says_where_it_runs(local, client):  # noqa: F811
    job = periodic(["/bin/sh", "-c", "sleep 30"])
    sync_job(job.pk)
    page = client.get(f"/view/{job.name}").content.decode()
    assert "the local executor" in page
    assert "Agent</th>" not in page


@pytest.mark.django_db(transaction=True)
def test_the_runner_tells_plank_the_pod_ended(local, monkeypatch):  # noqa: F811
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.skip("needs a Redis broker to read the message from")
    queue = redis.Redis.from_url(broker)
    queue.delete("jobs")
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    # The runner is a process of its own: it must see this test's database.
    monkeypatch.setenv("DATABASE_URL", f"{base}/{connection.settings_dict['NAME']}")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "prow.settings")
    job = periodic(["/bin/sh", "-c", "exit 0"])
    sync_job(job.pk)

    def sync_sent() -> bool:
        for raw in queue.lrange("jobs", 0, -1):
            headers = json.loads(raw)["headers"]
            if headers["task"] == "jobs.tasks.sync_prowjob" and headers[
                "argsrepr"
            ] == repr((job.pk,)):
                return True
        return False

    wait_until(sync_sent, 15, what="the runner's message to plank")
    queue.delete("jobs")
