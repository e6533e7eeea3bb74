"""Deck in a real headless Chromium: the job list, its filters and pages,
a running row turning green without a reload, the job page's log, and a
rerun that asks for a login first. Screenshots go to
test-artifacts/screenshots/ for people to look at."""

import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from jobs.logs import artifact_store
from jobs.models import ProwJob, ProwJobState
from jobs.services import prowjob_transition
from tests.conftest import ROOT
from tests.factories import ProwJobFactory, PullFactory, RefsFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between page actions are still plain blocking calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PROW_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"

CONFIG = """\
deck:
  rerun_auth_configs:
    "*":
      github_users: [alice]
"""

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, settings):
    settings.PROW_DECK_POLL_SECONDS = 1
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def make(n: int, *, state: str = "success", repo: str = "app", **extra):
    """Run n of acme/`repo`'s unit or e2e job on one of seven pull requests,
    started 200 - n minutes ago."""
    start = timezone.now() - timedelta(minutes=200 - n)
    fields = {
        "job": f"pull-{repo}-unit" if n % 2 else f"pull-{repo}-e2e",
        "state": state,
        "author": "alice" if n % 3 else "bob",
        "build_id": str(1000 + n),
        "refs": RefsFactory(
            repo=repo, pulls=[PullFactory(number=100 + n % 7, sha=f"{n:040x}")]
        ),
        "start_time": start,
        "duration": timedelta(seconds=90 + n),
    }
    fields.update(extra)
    return ProwJobFactory(**fields)


def test_job_list_filters_and_pages(page, live_server):
    for n in range(70):
        make(n, state="failure" if n % 5 == 0 else "success")
    page.goto(f"{live_server.url}/")
    rows = page.locator("#job-rows tr[data-state]")
    expect(rows).to_have_count(50)
    shot(page, "job-list")

    page.select_option("select[name=state]", "failure")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(14)
    states = rows.evaluate_all("rs => rs.map(r => r.dataset.state)")
    assert set(states) == {"failure"}
    assert "state=failure" in page.url
    shot(page, "job-list-filtered")

    page.goto(f"{live_server.url}/")
    first_page = set(rows.evaluate_all("rs => rs.map(r => r.id)"))
    page.click("a[rel=next]")
    expect(rows).to_have_count(20)
    second_page = set(rows.evaluate_all("rs => rs.map(r => r.id)"))
    assert not first_page & second_page
    assert len(first_page | second_page) == 70
    page.click("a[rel=prev]")
    expect(rows).to_have_count(50)
    assert set(rows.evaluate_all("rs => rs.map(r => r.id)")) == first_page


def test_running_row_turns_green_without_reload(page, live_server):
    for n in range(3):
        make(n)
    running = make(10, state="pending", build_id="77")
    page.goto(f"{live_server.url}/")
    row = page.locator(f"#job-{running.name}")
    expect(row).to_have_attribute("data-state", "pending")
    page.evaluate("window.__notReloaded = true")

    assert prowjob_transition(running, ProwJobState.SUCCESS, description="ok")
    expect(row).to_have_attribute("data-state", "success", timeout=10_000)
    assert page.evaluate("window.__notReloaded === true")
    expect(row.locator(".state")).to_have_text("passed")
    shot(page, "job-list-after-refresh")


def test_job_page_shows_the_log(page, live_server):
    job = make(1, state="failure", description="Job failed.")
    artifact_store(
        job,
        "build-log.txt",
        "=== RUN TestSpeed\n--- FAIL: TestSpeed <slow>\n",
        limit=10_000,
        complete=True,
    )
    page.goto(f"{live_server.url}/view/{job.name}")
    expect(page.locator("#build-log")).to_contain_text("--- FAIL: TestSpeed <slow>")
    expect(page.locator("#job-state")).to_contain_text("failed")
    expect(page.get_by_role("link", name="build-log.txt")).to_be_visible()
    shot(page, "job-page")


def test_rerun_asks_for_login_then_works(page, live_server, activate_config):
    activate_config(config_yaml=CONFIG)
    get_user_model().objects.create_user("alice", password="s3cret-pass")
    job = make(1, state="failure")
    page.goto(f"{live_server.url}/view/{job.name}")
    page.get_by_role("button", name="Rerun").click()

    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert ProwJob.objects.count() == 1
    shot(page, "login")
    page.fill("#id_login", "alice")
    page.fill("#id_password", "s3cret-pass")
    page.click("form[action='/accounts/login/'] button[type=submit]")

    page.wait_for_url(f"{live_server.url}/view/{job.name}")
    # Logged in, Rerun asks first (tests/deck/test_confirm.py checks what).
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rerun").click()
    page.wait_for_url(lambda url: str(job.name) not in url)
    rerun = ProwJob.objects.exclude(pk=job.pk).get()
    assert (rerun.job, rerun.refs) == (job.job, job.refs)
    assert rerun.annotations["prow.k8s.io/triggered-by"] == "alice"
    assert page.url.endswith(f"/view/{rerun.name}")
    expect(page.locator(".messages")).to_contain_text("Started a new run")
    shot(page, "after-rerun")


def test_history_pull_request_and_help_pages(page, live_server, plugins_enabled):
    plugins_enabled({"acme/app": ["trigger", "shrug"]})
    for n in range(12):
        make(n, state="failure" if n % 4 == 0 else "success")
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="history").first.click()
    expect(page.locator("svg rect").first).to_be_visible()
    expect(page.locator("tr[data-state]")).to_have_count(6)
    shot(page, "job-history")

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="PR jobs").first.click()
    expect(page.get_by_role("heading", name="acme/app #")).to_be_visible()
    shot(page, "pull-request")

    page.goto(f"{live_server.url}/command-help")
    expect(page.get_by_text("/retest", exact=True).first).to_be_visible()
    shot(page, "command-help")

    # The API's docs come from this server, not from a CDN.
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_text("/api/v1/prowjobs/").first).to_be_visible(timeout=15_000)
    shot(page, "api-docs")


def test_pull_request_page_follows_a_running_job(page, live_server):
    make(1, state="success")
    running = make(8, state="pending", pull_number=101)  # same PR as n=1
    page.goto(f"{live_server.url}/pr/acme/app/101")
    row = page.locator(f"#job-{running.name}")
    expect(row).to_have_attribute("data-state", "pending")
    page.evaluate("window.__notReloaded = true")
    assert prowjob_transition(running, ProwJobState.FAILURE, description="boom")
    expect(row).to_have_attribute("data-state", "failure", timeout=10_000)
    assert page.evaluate("window.__notReloaded === true")
