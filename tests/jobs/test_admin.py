import pytest
from django.urls import reverse

from jobs.models import ProwJob
from tests.factories import ProwJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def job():
    return ProwJobFactory(job="unit")


def test_job_page_shows_the_prowjob(admin_client, job):
    page = admin_client.get(reverse("admin:jobs_prowjob_change", args=[job.pk])).content
    assert b"&quot;kind&quot;: &quot;ProwJob&quot;" in page
    assert str(job.name).encode() in page


def test_abort_action(admin_client, job):
    response = admin_client.post(
        reverse("admin:jobs_prowjob_changelist"),
        {"action": "abort", "_selected_action": [job.pk]},
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == "aborted"
    assert job.description == "admin aborted this job."
    assert ProwJob.objects.filter(state="aborted").count() == 1
