"""Starting a periodic now from Deck: staff only, CSRF-protected."""

import pytest
from django.test import Client

from jobs.models import ProwJob

pytestmark = pytest.mark.django_db

CONFIG = "periodics:\n- name: nightly\n  interval: 24h\n  spec: {containers: [{image: a, command: [x]}]}\n"


@pytest.fixture(autouse=True)
def config(activate_config):
    activate_config(config_yaml=CONFIG)


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.post("/periodics/nightly/run")
    assert response.status_code == 302
    assert "/login/" in response.url
    assert not ProwJob.objects.exists()


def test_staff_start_a_run(admin_client):
    page = admin_client.get("/jobs").content.decode()
    assert 'action="/periodics/nightly/run"' in page
    response = admin_client.post("/periodics/nightly/run")
    job = ProwJob.objects.get()
    assert (job.job, job.type) == ("nightly", "periodic")
    assert response.status_code == 302 and response.url == f"/view/{job.name}"


def test_unknown_periodic_is_404(admin_client):
    assert admin_client.post("/periodics/nope/run").status_code == 404


def test_csrf_is_required(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post("/periodics/nightly/run").status_code == 403
    assert not ProwJob.objects.exists()
