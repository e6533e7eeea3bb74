"""Web pods run in the cluster without a service account token (they have
no Kubernetes rights): a running job's page shows the stored log instead of
failing to read the pod."""

import pytest

from jobs.executors.kubernetes import forget_connections
from jobs.logs import artifact_store
from tests.factories import ProwJobFactory

pytestmark = pytest.mark.django_db


def test_running_job_page_without_a_token_shows_the_stored_log(
    client, settings, monkeypatch
):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    settings.KUBECONFIG = ""
    forget_connections()
    job = ProwJobFactory(
        state="pending",
        pod_name="pod-1",
        namespace="test-pods",
        build_id="9",
        pod_spec={"containers": [{"image": "alpine", "command": ["make"]}]},
    )
    artifact_store(
        job, "build-log.txt", "step 1 kept by the worker\n", limit=999, complete=False
    )
    try:
        response = client.get(f"/view/{job.name}")
    finally:
        forget_connections()
    assert response.status_code == 200
    page = response.content.decode()
    assert "step 1 kept by the worker" in page
    assert '<span class="badge">live</span>' not in page
