"""Deck's job list and job page over HTTP: filters, keyset pages, the htmx
partials, artifacts served safely, and rerun/abort authorisation."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from deck.queries import FilterError, JobFilters, job_page
from jobs.logs import artifact_store, artifact_store_bytes
from jobs.models import ProwJob
from tests.factories import ProwJobFactory, PullFactory, RefsFactory

pytestmark = pytest.mark.django_db

CONFIG = """\
deck:
  rerun_auth_configs:
    acme/app: {github_users: [alice]}
"""


def make(n: int, **extra) -> ProwJob:
    """A finished run of pull n of acme/app (odd n) or acme/lib (even n)."""
    fields = {
        "job": f"job-{n % 3}",
        "state": "success",
        "author": "alice" if n % 4 else "bob",
        "refs": RefsFactory(
            repo="app" if n % 2 else "lib", pulls=[PullFactory(number=n)]
        ),
    }
    fields.update(extra)
    return ProwJobFactory(**fields)


def names(response) -> list[str]:
    return [job.job for job in response.context["page"].rows]


def test_filters_read_from_the_query_string():
    filters = JobFilters.from_query(
        {"repo": "acme/app", "state": "failure", "pull": "12", "q": " e2e "}
    )
    assert filters.org_repo == ("acme", "app")
    assert (filters.state, filters.pull, filters.q) == ("failure", 12, "e2e")
    assert filters.as_query() == {
        "repo": "acme/app",
        "state": "failure",
        "pull": "12",
        "q": "e2e",
    }
    for bad in (
        {"state": "done"},
        {"pull": "x1"},
        {"pull": "²"},
        {"repo": "a/b/c"},
        {"type": "x"},
    ):
        with pytest.raises(FilterError):
            JobFilters.from_query(bad)


def test_keyset_pages_cover_every_row_once():
    for n in range(23):
        make(n)
    seen, page = [], job_page(JobFilters(), limit=10)
    while True:
        seen += [job.id for job in page.rows]
        if page.older is None:
            break
        page = job_page(JobFilters(), before=page.older, limit=10)
    assert seen == sorted(ProwJob.objects.values_list("id", flat=True), reverse=True)
    back = job_page(JobFilters(), after=page.rows[0].id, limit=10)
    assert [job.id for job in back.rows] == seen[10:20]


def test_list_filters(client):
    for n in range(12):
        make(n, state="failure" if n % 3 == 0 else "success")
    page = client.get("/", {"repo": "acme/app", "state": "failure"})
    rows = page.context["page"].rows
    assert rows and all(
        (j.org, j.repo, j.state) == ("acme", "app", "failure") for j in rows
    )
    assert len(rows) == ProwJob.objects.filter(repo="app", state="failure").count()
    assert set(names(client.get("/", {"q": "OB-1"}))) == {"job-1"}
    assert {
        j.author for j in client.get("/", {"author": "bob"}).context["page"].rows
    } == {"bob"}
    assert [
        j.pull_number for j in client.get("/", {"pull": "5"}).context["page"].rows
    ] == [5]


def test_a_bad_filter_says_which_and_is_400(client):
    make(1)
    response = client.get("/", {"state": "finished"})
    assert response.status_code == 400
    assert "Filter state: must be one of" in response.content.decode()


def test_the_htmx_refresh_returns_only_the_rows(client):
    running = make(1, state="pending")
    full = client.get("/").content.decode()
    assert "<form" in full and 'hx-trigger="every' in full
    partial = client.get("/", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<tbody id="job-rows"')
    assert f'id="job-{running.name}" data-state="pending"' in partial
    assert "<form" not in partial


def test_an_old_finished_page_does_not_poll(client):
    for n in range(5):
        make(n)
    newest = ProwJob.objects.order_by("-id").first()
    page = client.get("/", {"before": newest.id}).content.decode()
    assert "hx-trigger" not in page


def test_hidden_jobs_stay_off_the_list(client):
    make(1, job="secret", hidden=True)
    make(2, job="public")
    assert names(client.get("/")) == ["public"]


def test_artifacts_are_served_as_text_or_attachments(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = make(1)
    artifact_store(
        job, "build-log.txt", "<script>alert(1)</script>", limit=99, complete=True
    )
    artifact_store_bytes(job, "artifacts/report.html", b"<h1>hi</h1>")
    log = client.get(f"/view/{job.name}/artifacts/build-log.txt")
    assert log["Content-Type"].startswith("text/plain")
    assert log["X-Content-Type-Options"] == "nosniff"
    assert b"".join(log.streaming_content) == b"<script>alert(1)</script>"
    html = client.get(f"/view/{job.name}/artifacts/artifacts/report.html")
    assert html["Content-Disposition"].startswith("attachment")
    assert "sandbox" in html["Content-Security-Policy"]
    assert client.get(f"/view/{job.name}/artifacts/nope.txt").status_code == 404


def test_rerun_and_abort_need_login_and_permission(client, activate_config):
    activate_config(config_yaml=CONFIG)
    job = make(1, state="pending")  # acme/app
    response = client.post(f"/view/{job.name}/rerun")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")

    users = get_user_model().objects
    mallory = Client()
    mallory.force_login(users.create_user("mallory"))
    assert mallory.post(f"/view/{job.name}/rerun").status_code == 403
    assert mallory.post(f"/view/{job.name}/abort").status_code == 403
    assert ProwJob.objects.count() == 1

    alice = Client()
    alice.force_login(users.create_user("alice"))
    page = alice.get(f"/view/{job.name}").content.decode()
    assert "Abort</button>" in page and "disabled" not in page
    assert alice.post(f"/view/{job.name}/abort").status_code == 302
    job.refresh_from_db()
    assert job.state == "aborted" and "alice" in job.description
    response = alice.post(f"/view/{job.name}/rerun")
    new = ProwJob.objects.exclude(pk=job.pk).get()
    assert response.url == f"/view/{new.name}"
    assert (new.state, new.job, new.refs) == ("triggered", job.job, job.refs)


def test_job_page_of_a_running_job_polls_its_live_part(client):
    job = make(1, state="pending")
    page = client.get(f"/view/{job.name}").content.decode()
    assert 'id="live" hx-get=' in page
    partial = client.get(f"/view/{job.name}", headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="live"') and "<html" not in body
    done = make(2)
    assert "hx-get" not in client.get(f"/view/{done.name}").content.decode()


def test_impossible_combinations_need_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        page = job_page(JobFilters(type="periodic", author="alice"))
    assert page.rows == []


def test_a_filtered_page_that_takes_too_long_is_refused(settings):
    make(1)
    settings.PROW_DECK_QUERY_MS = 20
    slow = ProwJob.objects.extra(where=["pg_sleep(0.2) IS NOT NULL"])
    with pytest.raises(FilterError) as refused:
        job_page(JobFilters(state="success"), queryset=slow)
    assert refused.value.name == "filters"
    assert "narrow it" in refused.value.message
    # The same query without filters has no limit (it is always cheap).
    assert len(job_page(JobFilters(), queryset=slow).rows) == 1


def test_a_running_job_s_log_is_read_live_from_its_pod(client, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.KUBECONFIG = ""
    job = make(
        1,
        state="pending",
        pod_name="pod-1",
        namespace="test-pods",
        build_id="9",
        pod_spec={"containers": [{"image": "alpine", "command": ["make"]}]},
    )
    logs = tmp_path / "local-pods" / "test-pods" / "pod-1" / "logs"
    logs.mkdir(parents=True)
    (logs / "test.log").write_text("step 1 <ok>\nstep 2 running\n")
    page = client.get(f"/view/{job.name}").content.decode()
    assert "step 2 running" in page and "step 1 &lt;ok&gt;" in page
    assert '<span class="badge">live</span>' in page


def test_rerun_needs_the_csrf_token(admin_user):
    job = make(1)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    assert browser.post(f"/view/{job.name}/rerun").status_code == 403
    assert ProwJob.objects.count() == 1


def test_hidden_repos_stay_off_the_list_and_the_api(client, activate_config):
    activate_config(config_yaml="deck:\n  hidden_repos: [secret, acme/lib]\n")
    shown = make(1)  # acme/app
    make(2)  # acme/lib
    make(3, org="secret", repo="thing")
    assert [j.name for j in client.get("/").context["page"].rows] == [shown.name]
    api = client.get("/api/v1/prowjobs/").json()["results"]
    assert [item["metadata"]["name"] for item in api] == [str(shown.name)]
