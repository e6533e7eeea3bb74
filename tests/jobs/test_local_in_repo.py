"""The local executor and jobs a repository defines for itself: their
commands come from whoever can push there, so they run on this machine only
when the deployment says so."""

import pytest

from jobs.labels import IN_REPO_ANNOTATION
from jobs.plank import sync_job
from jobs.services import postsubmit_fields, prowjob_create
from prow.config.schema import Postsubmit, ProwConfig
from tests.factories import ProwJobFactory
from tests.jobs.test_plank_local import run_until_done

pytestmark = pytest.mark.django_db

REFS = {"org": "acme", "repo": "app", "base_ref": "main", "base_sha": "b" * 40}


@pytest.fixture(autouse=True)
def local(settings, tmp_path, monkeypatch):
    settings.KUBECONFIG = ""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PROW_LOG_SNAPSHOT_SECONDS = 0
    settings.PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS = False
    settings.PROW_LOCAL_EXECUTOR_ALLOW_IN_REPO_JOBS = False
    return tmp_path


def postsubmit(in_repo: bool):
    annotations = {IN_REPO_ANNOTATION: "true"} if in_repo else {}
    job = Postsubmit(
        name="deploy",
        annotations=annotations,
        spec={"containers": [{"image": "x", "command": ["true"]}]},
    )
    return prowjob_create(fields=postsubmit_fields(job, REFS, ProwConfig()))


def test_a_repositorys_own_postsubmit_is_refused_unless_allowed(settings, local):
    job = postsubmit(in_repo=True)
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.state == "error"
    assert "PROW_LOCAL_EXECUTOR_ALLOW_IN_REPO_JOBS" in job.description
    assert not (local / "local-pods" / job.namespace / str(job.name)).exists()

    settings.PROW_LOCAL_EXECUTOR_ALLOW_IN_REPO_JOBS = True
    assert run_until_done(postsubmit(in_repo=True)).state == "success"


def test_central_postsubmits_still_run():
    assert run_until_done(postsubmit(in_repo=False)).state == "success"


def test_a_pod_goes_in_pod_namespace_whatever_the_job_says(activate_config, local):
    activate_config(config_yaml="pod_namespace: test-pods\n")
    job = Postsubmit(
        name="deploy",
        namespace="kube-system",
        spec={"containers": [{"image": "x", "command": ["true"]}]},
    )
    config = ProwConfig(pod_namespace="test-pods")
    assert postsubmit_fields(job, REFS, config)["namespace"] == "test-pods"
    # A job stored before (a rerun copies its namespace) is not believed either.
    stored = ProwJobFactory(periodic=True, namespace="kube-system", pod_spec=job.spec)
    sync_job(stored.pk)
    stored.refresh_from_db()
    assert stored.state == "pending"
    assert stored.namespace == "test-pods"
    assert (local / "local-pods" / "test-pods" / str(stored.name)).exists()
    assert run_until_done(stored).state == "success"
