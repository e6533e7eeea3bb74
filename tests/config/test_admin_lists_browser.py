"""The admin's config-version and delivery lists at 1280 px: the columns
people look for (which version is active, status, attempts, GUID) are in
sight without scrolling sideways."""

import pytest
from playwright.sync_api import expect

from prow.config.models import ConfigVersion
from prow.config.services import config_version_create
from tests.config.test_admin_browser import CONFIG
from tests.deck.test_browser import chromium, page, shot  # noqa: F401
from tests.deck.test_confirm import log_in
from tests.factories import WebhookDeliveryFactory

pytestmark = pytest.mark.django_db(transaction=True)
WIDTH = 1280


def column_fits(page, name: str) -> None:  # noqa: F811
    header = page.locator("#result_list thead th").filter(has_text=name).first
    expect(header).to_be_visible()
    box = header.bounding_box()
    assert box["x"] + box["width"] <= WIDTH, (name, box)


def test_lists_fit_at_1280(page, live_server):  # noqa: F811
    for n in range(3):
        config_version_create(
            config_yaml=CONFIG + f"# {n}\n",
            plugins_yaml="",
            source=ConfigVersion.Source.ADMIN,
            comment="a long reason for this change, " * 8,
        )
    for n in range(3):
        WebhookDeliveryFactory(sender="a-rather-long-login-name", attempts=n)
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/config/configversion/")
    for name in ("ID", "SOURCE", "WARNINGS"):
        column_fits(page, name)
    active = page.locator("#result_list tbody tr").first.locator("strong")
    expect(active).to_have_text("active")
    box = active.bounding_box()
    assert box["x"] + box["width"] <= WIDTH
    shot(page, "admin-config-versions")

    page.goto(f"{live_server.url}/admin/hook/webhookdelivery/")
    for name in ("GUID", "STATUS", "ATTEMPTS", "RECEIVED AT"):
        column_fits(page, name)
    shot(page, "admin-deliveries")
