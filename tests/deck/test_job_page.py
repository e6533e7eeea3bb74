"""The job page that GitHub statuses link to."""

import pytest

from jobs.logs import artifact_store
from tests.factories import ProwJobFactory

pytestmark = pytest.mark.django_db


def test_job_page_shows_the_job_and_its_log(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = ProwJobFactory(job="unit")  # acme/app#7
    artifact_store(
        job, "build-log.txt", "<FAIL> TestSpeed\n", limit=1000, complete=True
    )
    page = client.get(f"/view/{job.name}").content.decode()
    assert "unit" in page
    assert 'href="https://github.com/acme/app/pull/7"' in page
    assert "&lt;FAIL&gt; TestSpeed" in page  # escaped, not markup


def test_unknown_job_is_404(client):
    assert client.get("/view/00000000-0000-0000-0000-000000000000").status_code == 404
