"""Deployment hardening: cookies, HSTS and the proxy's https header follow
PROW_EXTERNAL_URL, and the unauthenticated readiness probe gives reasons
without the drivers' messages."""

import json
import subprocess
import sys

import pytest
from django.db import OperationalError

from tests.conftest import ROOT

SHOW = (
    "import django, json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'prow.settings'; "
    "from django.conf import settings as s; "
    "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER]))"
)


def deployment_settings(tmp_path, **variables) -> list:
    env = {"PATH": "/usr/bin:/bin", "PROW_DATA_DIR": str(tmp_path), **variables}
    run = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_https_deployment_is_hardened_by_default(tmp_path):
    session, csrf, hsts, proxy = deployment_settings(
        tmp_path, PROW_EXTERNAL_URL="https://prow.example.com"
    )
    assert session is True
    assert csrf is True
    assert hsts >= 180 * 24 * 3600
    assert proxy == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_plain_http_deployment_keeps_cookies_usable(tmp_path):
    assert deployment_settings(tmp_path) == [False, False, 0, None]


def test_each_setting_can_be_chosen(tmp_path):
    session, csrf, hsts, proxy = deployment_settings(
        tmp_path,
        PROW_EXTERNAL_URL="https://prow.example.com",
        PROW_SESSION_COOKIE_SECURE="false",
        PROW_CSRF_COOKIE_SECURE="false",
        PROW_HSTS_SECONDS="600",
        PROW_SECURE_PROXY_SSL_HEADER="X-Scheme",
    )
    assert [session, csrf, hsts, proxy] == [
        False,
        False,
        600,
        ["HTTP_X_SCHEME", "https"],
    ]
    assert (
        deployment_settings(
            tmp_path,
            PROW_EXTERNAL_URL="https://prow.example.com",
            PROW_SECURE_PROXY_SSL_HEADER="off",
        )[3]
        is None
    )


@pytest.mark.django_db
def test_https_requests_through_the_proxy_get_hsts(client, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    over_https = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    assert over_https["Strict-Transport-Security"] == "max-age=3600"
    assert "Strict-Transport-Security" not in client.get("/healthz")


class _BrokenConnection:
    def cursor(self):
        raise OperationalError(
            'connection to server at "db.internal" (10.1.2.3), port 5432 failed: '
            'password authentication failed for user "prow"'
        )


@pytest.mark.django_db
def test_readiness_names_the_problem_not_the_driver_message(
    client, monkeypatch, caplog
):
    monkeypatch.setattr("prow.health.connection", _BrokenConnection())
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    problems = response.json()["problems"]
    assert problems == [
        "database unreachable: OperationalError",
        "broker unreachable: OperationalError",
    ]
    body = response.content.decode()
    for secret in ("db.internal", "10.1.2.3", "prow", "127.0.0.1", "refused"):
        assert secret not in body
    # Operators still get the whole story, in the log.
    assert "password authentication failed" in caplog.text
