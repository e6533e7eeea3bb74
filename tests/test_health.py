"""/healthz says the process is alive; /healthz/ready says it can work."""

import pytest

from prow.celery import app
from tests.processes import (
    VENV_BIN,
    free_port,
    http_get,
    project_env,
    running,
    wait_until,
)

pytestmark = pytest.mark.django_db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_ready_when_database_and_broker_answer(client):
    assert app.conf.broker_url.startswith("redis://")
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json() == {"ready": True}


def test_not_ready_when_the_broker_is_down(client, monkeypatch):
    # Nothing listens on port 1. Celery lets the environment variable win over
    # its settings, as a deployment would set it.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    (problem,) = response.json()["problems"]
    assert problem.startswith("broker unreachable:")


def test_not_ready_when_the_database_is_down(tmp_path):
    port = free_port()
    env = project_env(
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing",
        PROW_DATA_DIR=tmp_path,
    )
    args = [f"{VENV_BIN}/gunicorn", "prow.wsgi", "-b", f"127.0.0.1:{port}"]
    with running(args, env, tmp_path / "web.log"):
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_get(f"{base}/healthz")[0] == 200, 30, what="web")
        status, body = http_get(f"{base}/healthz/ready")
    assert status == 503
    assert "database unreachable" in body
