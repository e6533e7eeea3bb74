"""The whole path: a signed `/test` comment arrives at /hook; a Celery worker
runs trigger, plank runs the pod (on the Kubernetes double, or as a local
process), the test drives the pod to its end, and the GitHub double shows
the statuses and the failure comment."""

import copy
import textwrap

import pytest

from jobs.executors.kubernetes import forget_connections
from jobs.logs import artifact_text
from jobs.models import JobArtifact, ProwJob
from jobs.tasks import plank_resync
from tests.fakes.kube import FakeKube
from tests.processes import wait_until
from tests.webhooks import fixture_payload

ORG, REPO, PR = "acme", "app", 7
BASE_TIP, HEAD = "b" * 40, "a" * 40


@pytest.fixture
def configure(activate_config):
    """configure(command): trigger on for the repository, and one presubmit,
    `unit`, whose container runs `command`."""

    def configure(command):
        config = textwrap.dedent(
            f"""\
            pod_namespace: test-pods
            presubmits:
              {ORG}/{REPO}:
              - name: unit
                spec:
                  containers:
                  - image: golang
                    command: {command}
            """
        )
        return activate_config(
            config_yaml=config, plugins_yaml=f"plugins:\n  {ORG}/{REPO}: [trigger]\n"
        )

    return configure


@pytest.fixture
def github(fake_github):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_branch(ORG, REPO, "main", BASE_TIP)
    fake_github.add_org_member(ORG, "member")
    fake_github.add_pull(ORG, REPO, PR, "member", HEAD, title="Faster")
    return fake_github


def comment(post_webhook, body):
    payload = copy.deepcopy(fixture_payload("issue_comment.created"))
    payload["repository"].update(full_name=f"{ORG}/{REPO}", name=REPO)
    payload["repository"]["owner"]["login"] = ORG
    payload["issue"].update(number=PR, state="open", pull_request={"url": "x"})
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = "member"
    assert post_webhook("issue_comment", payload).status_code == 200


def job_in(state):
    return ProwJob.objects.filter(job="unit", state=state).first()


def assert_reported_failure(github, job, settings):
    def statuses():
        return github.statuses(ORG, REPO, HEAD)  # oldest first

    wait_until(
        lambda: statuses() and statuses()[-1].state == "failure",
        timeout=30,
        what="the failure status",
    )
    reported = statuses()
    assert {s.context for s in reported} == {"unit"}
    assert [s.state for s in reported][:-1] and all(
        s.state == "pending" for s in reported[:-1]
    )
    final = reported[-1]
    assert final.description.startswith("Job failed.")
    assert final.description.endswith(f" BaseSHA:{BASE_TIP}")
    assert len(final.description) <= 140
    assert final.target_url == f"{settings.PROW_EXTERNAL_URL}/view/{job.name}"
    wait_until(
        lambda: any(
            "<!-- test report -->" in c.body for c in github.comments(ORG, REPO, PR)
        ),
        timeout=30,
        what="the failure comment",
    )
    (report,) = [
        c for c in github.comments(ORG, REPO, PR) if "<!-- test report -->" in c.body
    ]
    assert report.body.startswith("@member: The following test **failed**")
    assert (
        f"unit | {HEAD} | [link]({final.target_url}) | true | `/test unit`"
        in report.body
    )


@pytest.mark.django_db(transaction=True)
def test_test_comment_to_failed_status_on_kubernetes(
    celery_worker_thread,
    clean_broker,
    configure,
    github,
    post_webhook,
    settings,
    tmp_path,
):
    kube = FakeKube(namespaces=("test-pods",)).start()
    settings.KUBECONFIG = str(kube.write_kubeconfig(tmp_path / "kubeconfig"))
    settings.MEDIA_ROOT = tmp_path / "media"
    forget_connections()
    try:
        configure('["go", "test", "./..."]')
        comment(post_webhook, "/test unit")
        wait_until(lambda: kube.pods("test-pods"), timeout=30, what="the pod")
        # The pod exists a moment before plank commits the job's new state.
        wait_until(lambda: job_in("pending"), timeout=30, what="the pending job")
        job = job_in("pending")
        (pod,) = kube.pods("test-pods")
        assert pod["metadata"]["name"] == str(job.name)
        kube.set_log("test-pods", str(job.name), "test", "--- FAIL: TestSpeed\n")
        kube.fail("test-pods", str(job.name))
        plank_resync.delay()  # what beat does every tick
        wait_until(lambda: job_in("failure"), timeout=30, what="the job to fail")
        job = job_in("failure")
        assert_reported_failure(github, job, settings)
        log = JobArtifact.objects.get(job=job, name="build-log.txt")
        assert "--- FAIL: TestSpeed" in artifact_text(log)
    finally:
        kube.stop()
        forget_connections()


@pytest.mark.django_db(transaction=True)
def test_test_comment_to_failed_status_with_a_local_process(
    celery_worker_thread,
    clean_broker,
    configure,
    github,
    post_webhook,
    settings,
    tmp_path,
    monkeypatch,
):
    settings.KUBECONFIG = ""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS = True
    configure('["/bin/sh", "-c", "echo checking $PULL_NUMBER; exit 1"]')
    comment(post_webhook, "/test unit")

    def finished():
        plank_resync.delay()
        return job_in("failure")

    wait_until(finished, timeout=60, interval=1, what="the local job to fail")
    job = job_in("failure")
    assert_reported_failure(github, job, settings)
    log = JobArtifact.objects.get(job=job, name="build-log.txt")
    assert artifact_text(log).strip() == f"checking {PR}"
