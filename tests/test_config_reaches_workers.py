"""A config edited in the admin reaches a running worker without a restart."""

import pytest
import redis
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult
from django.db import connection
from django.urls import reverse

from prow.celery import app
from prow.config.models import ConfigVersion
from prow.config.services import config_version_create
from tests.processes import VENV_BIN, project_env, read_log, running, wait_until

RESULTS = "redis://127.0.0.1:6379/14"
FIRST = "periodics:\n- name: p\n  interval: 1h\n  spec: {containers: [{image: a}]}\n"
EDITED = "periodics:\n- name: p\n  interval: 2h\n  spec: {containers: [{image: a}]}\n"


def database_url() -> str:
    # The test database pytest-django created, so the worker sees our rows.
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def ask_worker_for_active_version(timeout=20):
    backend = RedisBackend(app=app, url=RESULTS)
    task_id = app.send_task("prow.config.tasks.active_version").id
    return AsyncResult(task_id, app=app, backend=backend).get(timeout=timeout)


@pytest.mark.django_db(transaction=True)
def test_admin_edit_is_seen_by_a_running_worker(admin_client, tmp_path):
    redis.Redis.from_url(app.conf.broker_url).flushdb()
    first = config_version_create(config_yaml=FIRST, plugins_yaml="", source="file")
    env = project_env(
        DATABASE_URL=database_url(),
        CELERY_RESULT_BACKEND=RESULTS,
        PROW_CONFIG_CACHE_SECONDS=1,
        PROW_DATA_DIR=tmp_path,
    )
    args = [
        f"{VENV_BIN}/celery",
        "-A",
        "prow",
        "worker",
        "--pool",
        "solo",
        "-l",
        "INFO",
    ]
    log = tmp_path / "worker.log"
    with running(args, env, log):
        assert ask_worker_for_active_version(timeout=60) == first.pk, read_log(log)

        response = admin_client.post(
            reverse("admin:config_configversion_add"),
            {"config_yaml": EDITED, "plugins_yaml": "", "comment": "2h"},
        )
        assert response.status_code == 302
        edited = ConfigVersion.objects.latest()
        assert edited.pk != first.pk

        # The same worker process, never restarted, moves to the new version
        # within its cache window.
        wait_until(
            lambda: ask_worker_for_active_version() == edited.pk,
            timeout=15,
            what="the worker to see the edited config",
        )
