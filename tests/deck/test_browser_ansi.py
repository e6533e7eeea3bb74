"""Coloured logs in a real Chromium: in the stored log and in the live view
of a running job, colour codes show as colour, never as `[1;34m`."""

import pytest
from playwright.sync_api import expect

from jobs.executors import executor_for
from jobs.logs import artifact_store
from jobs.plank import sync_job
from tests.deck.test_browser import chromium, make, media, page, shot  # noqa: F401
from tests.deck.test_browser_local_job import local  # noqa: F401
from tests.jobs.test_plank_local import periodic

pytestmark = pytest.mark.django_db(transaction=True)

BLUE = "rgb(88, 166, 255)"


def test_stored_log_shows_colours_and_escapes_markup(page, live_server):  # noqa: F811
    job = make(1, state="failure", description="Job failed.")
    artifact_store(
        job,
        "build-log.txt",
        "\x1b[1;34mINFO\x1b[m building <b>app</b>\n\x1b[31mFAIL\x1b[0m TestSpeed\n",
        limit=10_000,
        complete=True,
    )
    page.goto(f"{live_server.url}/view/{job.name}")
    log = page.locator("#build-log")
    expect(log).to_contain_text("INFO building <b>app</b>")
    expect(log).not_to_contain_text("[1;34m")
    info = log.locator("span.ansi-blue")
    expect(info).to_have_text("INFO")
    expect(info).to_have_css("color", BLUE)
    expect(info).to_have_css("font-weight", "700")
    expect(log.locator("span.ansi-red")).to_have_text("FAIL")
    expect(log.locator("b")).to_have_count(0)
    shot(page, "job-page-ansi-log")


def test_live_log_of_a_running_job_shows_colours(page, live_server, local):  # noqa: F811
    job = periodic(
        ["/bin/sh", "-c", r"printf '\033[1;34mINFO\033[m started\n'; sleep 30"]
    )
    sync_job(job.pk)
    job.refresh_from_db()
    try:
        page.goto(f"{live_server.url}/view/{job.name}")
        log = page.locator("#build-log")
        # The page polls the pod until the line is there.
        expect(log.locator("span.ansi-blue")).to_have_text("INFO", timeout=15_000)
        expect(page.locator("h2 .badge")).to_have_text("live")
        expect(log).to_contain_text("INFO started")
        expect(log).not_to_contain_text("[1;34m")
    finally:
        executor_for(job.cluster).delete(job.namespace, job.pod_name)
