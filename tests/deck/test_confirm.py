"""Rerun, Abort and the config Rollback ask first, saying what will happen;
dismissing the question changes nothing."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from jobs.models import ProwJob
from prow.config.models import ConfigVersion
from prow.config.services import config_version_create
from tests.deck.test_browser import chromium, make, media, page, shot  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(browser_page, live_server):
    get_user_model().objects.create_superuser("root", password="s3cret-pass")
    browser_page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    browser_page.fill("#id_username", "root")
    browser_page.fill("#id_password", "s3cret-pass")
    browser_page.click("input[type=submit]")
    browser_page.wait_for_url("**/admin/")


def answer(browser_page, accept: bool) -> list[str]:
    """Answer the next dialog; returns where its text will be put."""
    seen: list[str] = []

    def handle(dialog):
        seen.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    browser_page.once("dialog", handle)
    return seen


def test_rerun_and_abort_ask_first(page, live_server):  # noqa: F811
    log_in(page, live_server)
    job = make(1, state="pending", build_id="12")
    page.goto(f"{live_server.url}/view/{job.name}")

    seen = answer(page, accept=False)
    page.get_by_role("button", name="Rerun").click()
    expect(page.get_by_role("button", name="Rerun")).to_be_visible()
    assert seen and seen[0].startswith(f"Start a new run of {job.job} on the same")
    assert ProwJob.objects.count() == 1

    seen = answer(page, accept=False)
    page.get_by_role("button", name="Abort").click()
    expect(page.get_by_role("button", name="Abort")).to_be_visible()
    assert seen[0].startswith(f"Abort {job.job} #12? Its pod is stopped")
    assert ProwJob.objects.get(pk=job.pk).state == "pending"

    answer(page, accept=True)
    page.get_by_role("button", name="Abort").click()
    expect(page.locator("#job-state")).to_contain_text("aborted")
    assert ProwJob.objects.get(pk=job.pk).state == "aborted"

    answer(page, accept=True)
    page.get_by_role("button", name="Rerun").click()
    page.wait_for_url(lambda url: str(job.name) not in url)
    assert ProwJob.objects.count() == 2


def test_rollback_asks_first(page, live_server):  # noqa: F811
    old = config_version_create(
        config_yaml="periodics: []\n", plugins_yaml="", source="file"
    )
    config_version_create(config_yaml="# newer\n", plugins_yaml="", source="file")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/config/configversion/{old.pk}/change/")

    seen = answer(page, accept=False)
    page.get_by_role("button", name="Roll back to this version").click()
    expect(page.get_by_role("button", name="Roll back to this version")).to_be_visible()
    assert seen[0].startswith(f"Make version {old.pk}'s config.yaml")
    assert ConfigVersion.objects.count() == 2

    answer(page, accept=True)
    page.get_by_role("button", name="Roll back to this version").click()
    page.wait_for_url(lambda url: f"/{old.pk}/change/" not in url)
    assert ConfigVersion.objects.latest().source == ConfigVersion.Source.ROLLBACK
