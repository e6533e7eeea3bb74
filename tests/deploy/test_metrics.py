"""/metrics: counters from every gunicorn and Celery process, summed, plus
what the database and broker say at scrape time."""

import json
import re
import urllib.request
import uuid

import pytest
import requests
from django.db import connection
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from jobs.models import ProwJob
from prow import metrics
from prow.celery import app
from tests.processes import (
    VENV_BIN,
    free_port,
    http_get,
    project_env,
    read_log,
    running,
    wait_until,
)
from tests.webhooks import SECRET, fixture_payload, sign

ORG, REPO, PR = "acme", "app", 7
HEAD = "a" * 40


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def total(found: dict, name: str, **labels) -> float:
    """The sum over every series of name whose labels include these."""
    return sum(
        v
        for (sample, have), v in found.items()
        if sample == name and set(labels.items()) <= set(have)
    )


def scrape_here() -> dict:
    return samples(generate_latest(metrics.registry()).decode())


@pytest.mark.django_db
def test_webhooks_are_counted_by_event_and_outcome(post_webhook, client):
    before = scrape_here()
    payload = fixture_payload("issue_comment.created")
    assert post_webhook("issue_comment", payload).status_code == 200
    assert post_webhook("issue_comment", payload, secret="wrong").status_code == 403
    after = scrape_here()
    name = "prow_webhooks_total"
    accepted = {"event": "issue_comment", "outcome": "accepted"}
    assert value(after, name, **accepted) == value(before, name, **accepted) + 1
    # A forged webhook's event header is not trusted as a label.
    rejected = {"event": "", "outcome": "rejected"}
    assert value(after, name, **rejected) == value(before, name, **rejected) + 1
    assert not [k for k in after if k[0] == name and ("event", "wrong") in k[1]]


def test_rate_limit_remaining_is_kept_from_github_answers():
    response = requests.Response()
    response.status_code = 200
    response.headers["X-RateLimit-Remaining"] = "4321"
    response.headers["X-RateLimit-Resource"] = "core"
    before = scrape_here()
    metrics.github_response(response)
    after = scrape_here()
    assert value(after, "prow_github_rate_limit_remaining", resource="core") == 4321
    assert (
        value(after, "prow_github_requests_total", outcome="2xx")
        == value(before, "prow_github_requests_total", outcome="2xx") + 1
    )


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def post_signed(base: str, event: str, payload: dict) -> int:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        f"{base}/hook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, SECRET),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


@pytest.mark.django_db(transaction=True)
def test_a_webhook_and_a_job_move_the_metrics_of_web_and_workers(
    clean_broker, fake_github, activate_config, secret_file, tmp_path
):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_branch(ORG, REPO, "main", "b" * 40)
    fake_github.add_org_member(ORG, "member")
    fake_github.add_pull(ORG, REPO, PR, "member", HEAD, title="Faster")
    activate_config(
        config_yaml=(
            "pod_namespace: test-pods\npresubmits:\n  acme/app:\n  - name: unit\n"
            "    spec:\n      containers:\n      - image: golang\n"
            '        command: ["/bin/sh", "-c", "exit 1"]\n'
        ),
        plugins_yaml="plugins:\n  acme/app: [trigger]\n",
    )
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    token = tmp_path / "token"
    token.write_text("bot-token-6f1e2d\n")
    env = project_env(
        DATABASE_URL=database_url(),
        PROW_DATA_DIR=tmp_path,
        PROMETHEUS_MULTIPROC_DIR=metrics_dir,
        PROW_GITHUB_ENDPOINT=fake_github.url,
        PROW_GITHUB_GRAPHQL_ENDPOINT=f"{fake_github.url}/graphql",
        PROW_GITHUB_TOKEN_PATH=token,
        PROW_GITHUB_APP_ID=None,
        PROW_HMAC_SECRET_FILE=secret_file,
        PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS="true",
        PROW_GITHUB_WRITE_SPACING_SECONDS=0,
        PROW_LOG_FORMAT="json",
        KUBECONFIG=None,
        KUBERNETES_SERVICE_HOST=None,
    )
    port, worker_port = free_port(), free_port()
    env["PROW_METRICS_PORT"] = str(worker_port)
    base = f"http://127.0.0.1:{port}"
    web = [
        f"{VENV_BIN}/gunicorn",
        "prow.wsgi",
        "--config",
        "gunicorn.conf.py",
        "-b",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
    ]
    worker = [
        f"{VENV_BIN}/celery",
        "-A",
        "prow",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        "2",
        "-l",
        "INFO",
    ]
    web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
    with running(web, env, web_log), running(worker, env, worker_log):
        wait_until(lambda: http_get(f"{base}/healthz")[0] == 200, 30, what="web")

        def scrape() -> dict:
            status, text = http_get(f"{base}/metrics")
            assert status == 200, text
            return samples(text)

        before = scrape()
        payload = fixture_payload("issue_comment.created")
        payload["repository"].update(full_name=f"{ORG}/{REPO}", name=REPO)
        payload["repository"]["owner"]["login"] = ORG
        payload["issue"].update(number=PR, state="open", pull_request={"url": "x"})
        payload["comment"]["body"] = "/test unit"
        payload["comment"]["user"]["login"] = "member"
        assert post_signed(base, "issue_comment", payload) == 200

        def failed():
            app.send_task("jobs.tasks.plank_resync")
            return ProwJob.objects.filter(job="unit", state="failure").exists()

        wait_until(
            failed,
            timeout=90,
            interval=1,
            what=f"the job to fail\n{read_log(worker_log)}",
        )
        # The worker answers on its own port too, for pods of its own.
        status, text = http_get(f"http://127.0.0.1:{worker_port}/metrics")
        assert status == 200
        assert total(samples(text), "prow_celery_tasks_total") >= 1
        after = wait_until(
            lambda: (
                (s := scrape())
                and total(s, "prow_prowjobs_completed_total", state="failure")
                > total(before, "prow_prowjobs_completed_total", state="failure")
                and s
            ),
            timeout=30,
            what="the completed job's counter",
        )

    def moved(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    # Counted in a gunicorn worker...
    assert moved("prow_webhooks_total", event="issue_comment", outcome="accepted") == 1
    # ...and in Celery's pool processes, all read by web's /metrics.
    assert (
        moved("prow_plugin_handling_seconds_count", plugin="trigger:generic_comment")
        == 1
    )
    assert moved("prow_delivery_handling_seconds_count") >= 1
    assert moved("prow_plank_sync_seconds_count") >= 1
    assert moved("prow_prowjob_duration_seconds_count", type="presubmit") == 1
    assert moved("prow_celery_tasks_total", outcome="success") >= 2
    assert moved("prow_github_requests_total", outcome="2xx") >= 1
    assert value(after, "prow_prowjobs", type="presubmit", state="failure") == 1
    assert ("prow_celery_queue_length", (("queue", "hook"),)) in after
    assert ("prow_webhook_backlog", (("status", "pending"),)) in after
    assert any(k[0] == "prow_github_cache_total" for k in after)
    # Every process wrote its own files: web's and the pool's.
    pids = {
        m.group(1)
        for f in metrics_dir.iterdir()
        if (m := re.search(r"_(\d+)\.db$", f.name))
    }
    assert len(pids) >= 3, sorted(f.name for f in metrics_dir.iterdir())
    # The token and the webhook secret never reach a log line.
    for log in (web_log, worker_log):
        text = log.read_text(errors="replace")
        assert "bot-token-6f1e2d" not in text
        assert SECRET not in text
    # Logged as JSON, each line of a task's work naming its delivery or job.
    lines = [
        json.loads(line)
        for line in worker_log.read_text().splitlines()
        if line.startswith("{")
    ]
    assert lines
    for line in lines:
        if line.get("task") in ("hook.tasks.handle_delivery",):
            assert line["delivery_id"]
        if line.get("task") == "jobs.tasks.sync_prowjob":
            assert line["prowjob_id"]
    assert any("delivery_id" in line or "delivery_ids" in line for line in lines)
    assert any("prowjob_id" in line or "prowjob_ids" in line for line in lines)
