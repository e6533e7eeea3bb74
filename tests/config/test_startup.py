"""No webhook is handled without its config: every process imports the
config files as it starts, readiness stays false while no version is
active, and a delivery that finds none waits for one instead of being
marked done under the empty config."""

import json
import textwrap
import urllib.request

import pytest

from hook.models import WebhookDelivery
from hook.services import WaitingForConfig, delivery_dispatch
from jobs.models import ProwJob
from prow.config.models import ConfigVersion
from prow.config.tasks import sync_config_files
from tests.hook.plugins.test_trigger import add_pull, pr_event
from tests.hook.recording_plugins import create_table, effects
from tests.processes import (
    VENV_BIN,
    free_port,
    http_get,
    project_env,
    read_log,
    running,
    wait_until,
)
from tests.test_config_reaches_workers import database_url
from tests.webhooks import sign

ORG, REPO = "acme", "app"
Status = WebhookDelivery.Status
pytestmark = pytest.mark.django_db
CONFIG = textwrap.dedent(
    f"""\
    presubmits:
      {ORG}/{REPO}:
      - name: unit
        always_run: true
        spec: {{containers: [{{image: golang, command: [go, test]}}]}}
    """
)
PLUGINS = f"plugins:\n  {ORG}/{REPO}: [trigger]\n"
# A presubmit without its spec: refused whole, so nothing is imported.
BROKEN = f"presubmits:\n  {ORG}/{REPO}:\n  - name: unit\n    always_run: true\n"


class Files:
    def __init__(self, folder):
        self.config = folder / "config.yaml"
        self.plugins = folder / "plugins.yaml"

    def write(self, config: str, plugins: str = PLUGINS) -> None:
        self.config.write_text(config)
        self.plugins.write_text(plugins)


@pytest.fixture
def files(tmp_path, settings):
    """The config files this test's processes load; listed before the
    worker so that the worker starts with them."""
    files = Files(tmp_path)
    settings.PROW_CONFIG_PATH = str(files.config)
    settings.PROW_PLUGIN_CONFIG_PATH = str(files.plugins)
    settings.PROW_CONFIG_WATCH_SECONDS = 1
    return files


@pytest.fixture
def broken_files(files):
    files.write(BROKEN)
    return files


@pytest.fixture
def github(fake_github):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_branch(ORG, REPO, "main", "b" * 40)
    fake_github.add_org_member(ORG, "member")
    add_pull(fake_github)
    return fake_github


def ready(client):
    response = client.get("/healthz/ready")
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_a_webhook_before_the_first_import_starts_its_job_once_the_config_is_active(
    broken_files,
    celery_worker_thread,
    clean_broker,
    github,
    post_webhook,
    client,
    settings,
    caplog,
):
    files = broken_files
    # The worker started with broken files: it imported nothing.
    assert not ConfigVersion.objects.exists()
    status, body = ready(client)
    assert status == 503
    (problem,) = body["problems"]
    assert problem.startswith("no config loaded: config files rejected with 1 error")
    assert str(files.config) not in problem  # paths stay in the log

    assert post_webhook("pull_request", pr_event("opened")).status_code == 200
    delivery = WebhookDelivery.objects.get()
    wait_until(
        lambda: f"delivery {delivery.pk} waits for a config" in caplog.text,
        timeout=30,
        what="the worker to look at the delivery",
    )
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert delivery.attempts == 0
    assert not ProwJob.objects.exists()

    # Fixed; beat's next tick imports the files, and the waiting delivery
    # is handled under them.
    files.write(CONFIG)
    sync_config_files.delay()
    wait_until(
        lambda: ProwJob.objects.filter(job="unit").exists(),
        timeout=60,
        what="the presubmit to start",
    )
    job = ProwJob.objects.get(job="unit")
    assert (job.org, job.repo, job.pull_number) == (ORG, REPO, 7)
    # The job is started a moment before the delivery is marked done.
    wait_until(
        lambda: WebhookDelivery.objects.get().status == Status.DONE,
        timeout=30,
        what="the delivery to be done",
    )
    assert ready(client) == (200, {"ready": True})


@pytest.fixture
def files_before_the_worker(files):
    files.write(CONFIG)
    return files


@pytest.mark.django_db(transaction=True)
def test_the_worker_imports_valid_files_as_it_starts(
    files_before_the_worker, celery_worker_thread
):
    # Nothing was asked of the worker, and beat never ran.
    (version,) = ConfigVersion.objects.all()
    assert version.source == ConfigVersion.Source.FILE
    assert version.config_yaml == CONFIG


def test_a_delivery_without_a_config_waits_and_takes_the_files_once_readable(
    files, clean_broker, github, post_webhook, client
):
    # The files are not there yet (a ConfigMap not mounted, say).
    status, body = ready(client)
    assert status == 503
    assert body["problems"] == [
        "no config loaded: config files unreadable: FileNotFoundError"
    ]
    assert post_webhook("pull_request", pr_event("opened")).status_code == 200
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(WaitingForConfig) as waiting:
        delivery_dispatch(delivery.pk)
    assert waiting.value.retry_after == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)

    # The worker's next try imports them itself.
    files.write(CONFIG)
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Status.DONE
    assert ProwJob.objects.filter(job="unit").count() == 1
    assert ConfigVersion.objects.get().source == ConfigVersion.Source.FILE


def test_a_redelivery_of_one_handled_under_an_earlier_config_works_as_before(
    clean_broker, fake_github, extra_plugins, activate_config, post_webhook
):
    fake_github.add_repo(ORG, REPO)
    add_pull(fake_github)
    create_table()
    activate_config(plugins_yaml=f"plugins:\n  {ORG}/{REPO}: [boom, recorder]\n")
    payload = pr_event("opened")
    post_webhook("pull_request", payload, guid="earlier-1")
    delivery = WebhookDelivery.objects.get(guid="earlier-1")
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert len(effects()) == 1

    # A new config drops the failing plugin; GitHub's Redeliver handles the
    # delivery under it, and what had finished does not run again.
    activate_config(plugins_yaml=f"plugins:\n  {ORG}/{REPO}: [recorder]\n")
    post_webhook("pull_request", payload, guid="earlier-1")
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Status.DONE
    assert delivery.plugin_results == {
        "boom:pull_request": "RuntimeError: boom: this plugin always fails",
        "boom:generic_comment": "RuntimeError: boom: this plugin always fails",
        "recorder:pull_request": "ok",
    }
    assert len(effects()) == 1

    # Done stays done under yet another config.
    activate_config(plugins_yaml=f"plugins:\n  {ORG}/{REPO}: [recorder]\n# v3\n")
    post_webhook("pull_request", payload, guid="earlier-1")
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DONE, 2)
    assert len(effects()) == 1


def post_hook(port: int, guid: str) -> int:
    body = json.dumps(pr_event("opened")).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/hook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": guid,
            "X-Hub-Signature-256": sign(body),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


@pytest.mark.django_db(transaction=True)
def test_gunicorn_imports_the_files_as_it_starts_and_is_not_ready_without_them(
    files, secret_file, tmp_path
):
    files.write(BROKEN)
    port = free_port()
    env = project_env(
        DATABASE_URL=database_url(),
        PROW_CONFIG_PATH=files.config,
        PROW_PLUGIN_CONFIG_PATH=files.plugins,
        PROW_HMAC_SECRET_FILE=secret_file,
        PROW_DATA_DIR=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    args = [f"{VENV_BIN}/gunicorn", "prow.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"]
    log = tmp_path / "web.log"
    with running(args, env, log):
        wait_until(lambda: http_get(f"{base}/healthz")[0] == 200, 30, what="web")
        status, body = http_get(f"{base}/healthz/ready")
        assert status == 503, read_log(log)
        assert "no config loaded: config files rejected" in body
        # Acknowledged and kept: it waits for a config (no worker here).
        assert post_hook(port, "before-config") == 200
        assert WebhookDelivery.objects.get(guid="before-config").status == (
            Status.PENDING
        )
        assert not ConfigVersion.objects.exists()

    files.write(CONFIG)
    with running(args, env, log):
        # Liveness imports nothing: the version is there because the web
        # process loaded the files before it served anything.
        wait_until(lambda: http_get(f"{base}/healthz")[0] == 200, 30, what="web")
        assert ConfigVersion.objects.filter(source="file").count() == 1, read_log(log)
        assert http_get(f"{base}/healthz/ready") == (200, '{"ready": true}')
