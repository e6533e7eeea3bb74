"""The config editor in a real Chromium, which submits textareas with CRLF
line endings: the saved version's diff still shows only the line changed."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from prow.config.models import ConfigVersion
from prow.config.services import config_version_create
from tests.config.test_admin_editor_browser import fill_editor
from tests.deck.test_browser import chromium, page, shot  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = "periodics:\n- name: p\n  interval: 1h\n  spec: {containers: [{image: a}]}\n"
PLUGINS = "plugins:\n  acme/app:\n  - cat\n"


def test_admin_edit_diffs_only_the_changed_line(page, live_server):  # noqa: F811
    first = config_version_create(
        config_yaml=CONFIG, plugins_yaml=PLUGINS, source=ConfigVersion.Source.FILE
    )
    get_user_model().objects.create_superuser("root", password="s3cret-pass")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/config/configversion/add/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "s3cret-pass")
    page.click("input[type=submit]")
    page.wait_for_url("**/configversion/add/")

    fill_editor(page, "config_yaml", CONFIG.replace("1h", "2h"))
    page.fill("#id_comment", "slower")
    page.get_by_role("button", name="Validate and save").click()
    page.wait_for_url(lambda url: "/add/" not in url)

    version = ConfigVersion.objects.latest()
    assert version.pk != first.pk
    assert "\r" not in version.config_yaml + version.plugins_yaml
    expect(page.locator("#plugins-diff")).to_have_text("plugins.yaml unchanged")
    diff = page.locator("#config-diff").inner_text()
    changed = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == ["-  interval: 1h", "+  interval: 2h"]
    shot(page, "config-version-diff")
