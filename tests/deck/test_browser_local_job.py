"""The job page of a local run in a real Chromium: it says the job ran on
this host without isolation, and how its container ended."""

import pytest
from playwright.sync_api import expect

from tests.deck.test_browser import chromium, media, page, shot  # noqa: F401
from tests.jobs.test_plank_local import periodic, run_until_done

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def local(settings, tmp_path, monkeypatch):
    settings.KUBECONFIG = ""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    settings.DATA_DIR = tmp_path
    settings.PROW_LOG_SNAPSHOT_SECONDS = 0


def test_failed_local_job_shows_where_it_ran_and_its_exit_code(
    page,  # noqa: F811
    live_server,
    local,
):
    job = run_until_done(periodic(["/bin/sh", "-c", "echo broken; exit 3"]))
    page.goto(f"{live_server.url}/view/{job.name}")
    expect(page.locator("#ran-on")).to_contain_text("the local executor")
    expect(page.locator("#ran-on")).to_contain_text("without isolation")
    exit_row = page.locator(".container-exit")
    expect(exit_row.locator("th")).to_have_text("Container test")
    expect(exit_row.locator("td")).to_have_text("exit code 3 · Error")
    expect(page.get_by_text("namespace test-pods")).to_have_count(0)
    expect(page.locator("#build-log")).to_contain_text("broken")
    shot(page, "job-page-local-failure")
