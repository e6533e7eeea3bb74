"""The health page: what it gathers (health_report) and what a person sees
at /health, in the test client and in a real Chromium."""

import pytest
from celery.signals import before_task_publish
from playwright.sync_api import expect

from deck.health_page import health_report
from hook import refusals
from prow import health, metrics
from prow.celery import Queue, app
from tests.deck.test_browser import chromium, media, page, shot  # noqa: F401
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

BROKEN = "periodics:\n- name: [unclosed\n"


@pytest.fixture(autouse=True)
def _own_state(private_cache, clean_broker):
    yield


@pytest.fixture
def files(tmp_path, settings, example_texts):
    config, plugins = tmp_path / "config.yaml", tmp_path / "plugins.yaml"
    config.write_text(example_texts[0])
    plugins.write_text(example_texts[1])
    settings.PROW_CONFIG_PATH, settings.PROW_PLUGIN_CONFIG_PATH = config, plugins
    return config


@pytest.fixture
def loaded(files, activate_config, example_texts):
    return activate_config(*example_texts, source="file")


def beat_sends_a_task():
    # As in beat: its start connects the recorder (called directly: beat's
    # other start-up work would close this test's database connection),
    # then it sends a task.
    health._watch_beat_ticks()
    try:
        app.send_task("prow.config.tasks.sync_config_files", queue=Queue.PERIODIC)
    finally:
        before_task_publish.disconnect(health._beat_ticked)


def test_a_quiet_installation(loaded, settings):
    settings.PROW_GITHUB_TOKEN_PATH = ""
    settings.PROW_GITHUB_APP_ID = ""
    report = health_report()
    assert report.problems == []
    # No worker runs in this test: the ping finds none.
    assert report.workers == []
    assert report.queues == {q.value: 0 for q in Queue}
    assert report.beat_tick is None
    assert report.last_webhook is None
    assert report.config_version == loaded
    assert report.config_files == "loaded"
    assert report.github_mode.startswith("dry mode")
    assert {count for _, _, count in report.refused} == {0}
    assert {reason for reason, _, _ in report.refused} == set(refusals.REASONS)


def test_what_the_processes_recorded_is_shown(loaded, post_webhook):
    post_webhook("issues", fixture_payload("issues.opened"), guid="last-one")
    post_webhook("issues", fixture_payload("issues.opened"), secret="wrong")
    beat_sends_a_task()
    metrics.GITHUB_RATE_REMAINING.labels(resource="core").set(4321)

    report = health_report()
    assert report.last_webhook.guid == "last-one"
    assert report.beat_tick is not None
    assert report.queues[Queue.PERIODIC.value] == 1
    assert report.rate_remaining["core"] == 4321
    refused = {reason: count for reason, _, count in report.refused}
    assert refused[refusals.BAD_SIGNATURE] == 1


def test_rejected_config_files_say_why(loaded, files):
    files.write_text(BROKEN)
    report = health_report()
    # The last good version stays active.
    assert report.config_version == loaded
    assert report.config_files.startswith("rejected (")
    assert any("config.yaml:2" in error for error in report.config_errors)


def test_the_page_shows_config_errors_to_staff_only(
    loaded, files, client, admin_client
):
    files.write_text(BROKEN)
    anonymous = client.get("/health").content.decode()
    assert "rejected (" in anonymous
    assert "config.yaml:2" not in anonymous
    assert "The errors are shown to staff" in anonymous
    staff = admin_client.get("/health").content.decode()
    assert 'id="config-errors"' in staff
    assert "config.yaml:2" in staff


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_answers(loaded, celery_worker_thread):
    report = health_report()
    assert len(report.workers) == 1


@pytest.mark.django_db(transaction=True)
def test_the_page_in_a_browser(
    page,  # noqa: F811
    live_server,
    loaded,
    post_webhook,
):
    post_webhook("issues", fixture_payload("issues.opened"), secret="wrong")
    beat_sends_a_task()
    page.goto(f"{live_server.url}/")
    page.locator("footer").get_by_role("link", name="Health", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/health")
    expect(page.locator("h1")).to_have_text("Health")
    for section in ("Workers", "Queues", "Beat", "Webhooks", "Config", "GitHub"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    expect(page.locator("#health-workers")).to_contain_text("None answered a ping")
    expect(page.locator("#health-queues")).to_contain_text("periodic")
    expect(page.locator("#health-beat")).to_contain_text("Last tick")
    expect(page.locator("#health-webhooks")).to_contain_text("none yet")
    expect(page.locator(f'td[data-reason="{refusals.BAD_SIGNATURE}"]')).to_have_text(
        "1"
    )
    expect(page.locator("#health-config")).to_contain_text(f"{loaded.pk}, from")
    expect(page.locator("#config-files")).to_have_text("loaded")
    expect(page.locator("#health-github")).to_contain_text("Rate limit left")
    shot(page, "health")
