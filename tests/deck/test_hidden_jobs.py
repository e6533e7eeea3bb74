"""Hidden jobs (`hidden: true`, deck.hidden_repos) are hidden everywhere, not
only from lists: their ids appear in GitHub status links, so the job page,
its artifacts, rerun, abort and the API answer as if they did not exist."""

import pytest
from django.contrib.auth import get_user_model

from jobs.logs import artifact_store
from jobs.models import ProwJob, ProwJobState
from tests.factories import ProwJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = get_user_model().objects.create_user("root", is_staff=True)
    client.force_login(admin)
    return client


@pytest.fixture(params=["hidden job", "hidden repo", "hidden org"])
def hidden_job(request, activate_config, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    activate_config(config_yaml="deck:\n  hidden_repos: [secret, acme/private]\n")
    org_repo = {
        "hidden job": ("acme", "app"),
        "hidden repo": ("acme", "private"),
        "hidden org": ("secret", "thing"),
    }[request.param]
    job = ProwJobFactory(
        job="unit",
        hidden=request.param == "hidden job",
        state=ProwJobState.PENDING,
    )
    ProwJob.objects.filter(pk=job.pk).update(org=org_repo[0], repo=org_repo[1])
    artifact_store(job, "build-log.txt", "token=abc\n", limit=1000, complete=True)
    return job


def test_job_page_and_artifacts_of_a_hidden_job_are_404(client, hidden_job):
    assert client.get(f"/view/{hidden_job.name}").status_code == 404
    artifact = f"/view/{hidden_job.name}/artifacts/build-log.txt"
    assert client.get(artifact).status_code == 404


def test_api_retrieve_of_a_hidden_job_is_404(client, hidden_job):
    assert client.get(f"/api/v1/prowjobs/{hidden_job.name}/").status_code == 404


def test_hidden_job_cannot_be_rerun_or_aborted(staff_client, hidden_job):
    for path in (
        f"/view/{hidden_job.name}/rerun",
        f"/view/{hidden_job.name}/abort",
        f"/api/v1/prowjobs/{hidden_job.name}/rerun/",
        f"/api/v1/prowjobs/{hidden_job.name}/abort/",
    ):
        assert staff_client.post(path).status_code == 404, path
    assert ProwJob.objects.count() == 1
    hidden_job.refresh_from_db()
    assert hidden_job.state == ProwJobState.PENDING


def test_visible_job_is_still_served(client, activate_config, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    activate_config(config_yaml="deck:\n  hidden_repos: [secret]\n")
    job = ProwJobFactory(job="unit")
    artifact_store(job, "build-log.txt", "ok\n", limit=1000, complete=True)
    assert client.get(f"/view/{job.name}").status_code == 200
    assert client.get(f"/api/v1/prowjobs/{job.name}/").status_code == 200
