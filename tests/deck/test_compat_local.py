"""/prowjobs.js says when a job ran on the local executor: the original's
shape (agent, cluster, pod name, image) would otherwise read as a pod."""

import pytest

from deck.podinfo import LOCAL_RUN_ANNOTATIONS
from jobs.models import ProwJobState
from tests.factories import ProwJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_cluster(settings, monkeypatch):
    settings.KUBECONFIG = ""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def by_name(client, query=""):
    response = client.get("/prowjobs.js" + query)
    assert response.status_code == 200
    return {item["metadata"]["name"]: item for item in response.json()["items"]}


def test_a_local_run_says_so(client, no_cluster):
    ran = ProwJobFactory(state=ProwJobState.SUCCESS, hidden=False)
    waiting = ProwJobFactory(state=ProwJobState.TRIGGERED, hidden=False)
    items = by_name(client)
    annotations = items[str(ran.name)]["metadata"]["annotations"]
    assert annotations["prow.k8s.io/executor"] == "local"
    assert "no pod, no cluster" in annotations["prow.k8s.io/executor-note"]
    # Not started yet: it has run nowhere.
    untouched = items[str(waiting.name)]["metadata"].get("annotations", {})
    assert not set(LOCAL_RUN_ANNOTATIONS) & set(untouched)
    # A client that asked for no annotations gets none.
    slim = by_name(client, "?omit=annotations")[str(ran.name)]["metadata"]
    assert "annotations" not in slim


def test_a_cluster_run_is_left_as_the_original_writes_it(client, settings, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("")
    settings.KUBECONFIG = str(kubeconfig)
    job = ProwJobFactory(state=ProwJobState.SUCCESS, hidden=False)
    annotations = by_name(client)[str(job.name)]["metadata"].get("annotations", {})
    assert "prow.k8s.io/executor" not in annotations
