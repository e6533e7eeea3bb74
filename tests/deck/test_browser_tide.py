"""Tide's pages in a real headless Chromium: a pool shows why each pull
request waits and follows Tide's next sync without a reload; the history's
filters narrow the list and its newest page picks up new records."""

import pytest
from playwright.sync_api import expect

from tests.deck.test_browser import chromium, media, page, shot  # noqa: F401
from tests.factories import TideHistoryFactory, TidePoolFactory, tide_pull
from tide.models import Action, Pool

pytestmark = pytest.mark.django_db(transaction=True)

# Refresh quickly, so the test sees the next poll within a second or two.
CONFIG = """\
deck:
  tide_update_period: 1s
tide:
  queries:
  - repos: [acme/app]
    labels: [lgtm, approved]
"""


def test_pool_shows_reasons_and_follows_the_next_sync(
    page,  # noqa: F811
    live_server,
    activate_config,
):
    activate_config(config_yaml=CONFIG)
    TidePoolFactory(
        action=Action.WAIT,
        target=[],
        success_prs=[],
        missing_prs=[tide_pull(3, reason="Not mergeable. Needs lgtm label.")],
    )
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Tide", exact=True).click()
    page.wait_for_url(f"{live_server.url}/tide")
    expect(page.locator("#queries")).to_contain_text(
        'is:pr state:open archived:false label:"lgtm" label:"approved"'
    )
    row = page.locator("#pr-acme-app-3")
    expect(row).to_have_attribute("data-group", "missing")
    expect(row.locator(".reason")).to_have_text("Not mergeable. Needs lgtm label.")
    shot(page, "tide-pools")
    page.evaluate("window.__notReloaded = true")

    # Tide's next sync: #3 got its label and passed, and Tide merges it.
    Pool.objects.filter(org="acme", repo="app", branch="main").update(
        action=Action.MERGE,
        missing_prs=[],
        success_prs=[tide_pull(3)],
        target=[tide_pull(3)],
    )
    expect(row).to_have_attribute("data-group", "success", timeout=10_000)
    expect(row.locator(".reason")).to_have_text("In merge pool.")
    expect(page.locator("#pool-acme-app-main .action")).to_have_text("MERGE")
    assert page.evaluate("window.__notReloaded === true")
    shot(page, "tide-pools-after-sync")


def test_history_filters_narrow_the_list_and_new_records_appear(
    page,  # noqa: F811
    live_server,
    activate_config,
):
    activate_config(config_yaml=CONFIG)
    for number in range(1, 5):
        TideHistoryFactory(
            action=Action.MERGE,
            targets=[{"number": number, "author": "alice", "sha": "a" * 40}],
        )
    TideHistoryFactory(
        action=Action.TRIGGER,
        targets=[{"number": 9, "author": "bob", "sha": "9" * 40}],
        error="",
    )
    page.goto(f"{live_server.url}/tide-history")
    rows = page.locator("#records tr[data-action]")
    expect(rows).to_have_count(5)
    shot(page, "tide-history")

    page.select_option("select[name=action]", "TRIGGER")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-action", "TRIGGER")
    assert "action=TRIGGER" in page.url

    page.fill("input[name=pull]", "")
    page.select_option("select[name=action]", "")
    page.fill("input[name=author]", "alice")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(4)
    shot(page, "tide-history-filtered")

    # The newest page keeps polling: a merge recorded now shows up.
    page.evaluate("window.__notReloaded = true")
    TideHistoryFactory(
        action=Action.MERGE_BATCH,
        targets=[{"number": 11, "author": "alice", "sha": "b" * 40}],
    )
    expect(rows).to_have_count(5, timeout=10_000)
    expect(rows.first).to_have_attribute("data-action", "MERGE_BATCH")
    assert page.evaluate("window.__notReloaded === true")
