"""CRLF from browsers and Windows editors is stored as LF on every way in,
and diffs show only real changes."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from prow.config.models import ConfigVersion
from prow.config.services import config_sync_files, config_version_create
from prow.config.text import unified_diff

pytestmark = pytest.mark.django_db

CONFIG = (
    "periodics:\n"
    "- name: p\n"
    "  interval: 1h\n"
    "  spec: {containers: [{image: a}]}\n"
    "- name: q\n"
    "  interval: 3h\n"
    "  spec: {containers: [{image: b}]}\n"
)
PLUGINS = "plugins:\n  acme/app:\n  - cat\n  - dog\n"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


@pytest.fixture
def first_version():
    return config_version_create(
        config_yaml=CONFIG, plugins_yaml=PLUGINS, source=ConfigVersion.Source.FILE
    )


def version_diffs(client, version):
    response = client.get(
        reverse("admin:config_configversion_change", args=[version.pk])
    )
    assert response.status_code == 200
    return response.context["config_diff"], response.context["plugins_diff"]


def test_admin_save_in_crlf_stores_lf_and_diffs_only_the_change(
    admin_client, first_version
):
    edited = CONFIG.replace("interval: 3h", "interval: 4h")
    response = admin_client.post(
        reverse("admin:config_configversion_add"),
        {"config_yaml": crlf(edited), "plugins_yaml": crlf(PLUGINS)},
    )
    assert response.status_code == 302
    version = ConfigVersion.objects.latest()
    assert "\r" not in version.config_yaml + version.plugins_yaml
    assert version.config_yaml == edited
    config_diff, plugins_diff = version_diffs(admin_client, version)
    changed = [
        line
        for line in config_diff.splitlines()
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == ["-  interval: 3h", "+  interval: 4h"]
    assert plugins_diff == ""


def test_api_and_files_store_lf(admin_user, first_version, tmp_path):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user).key}"
    )
    created = client.post(
        "/api/v1/config/versions/",
        {"config_yaml": crlf(CONFIG + "# api\n"), "plugins_yaml": crlf(PLUGINS)},
        format="json",
    )
    assert created.status_code == 201
    assert "\r" not in created.json()["config_yaml"]

    config_path, plugins_path = tmp_path / "config.yaml", tmp_path / "plugins.yaml"
    config_path.write_bytes(crlf(CONFIG + "# file\n").encode())
    plugins_path.write_bytes(crlf(PLUGINS).encode())
    loaded = config_sync_files(
        config_path=str(config_path), plugins_path=str(plugins_path)
    )
    assert loaded is not None
    assert loaded.config_yaml == CONFIG + "# file\n"
    # The same CRLF files are recognised as already imported.
    assert (
        config_sync_files(config_path=str(config_path), plugins_path=str(plugins_path))
        is None
    )


def test_versions_stored_with_crlf_before_still_diff_cleanly(
    admin_client, first_version
):
    legacy = ConfigVersion.objects.create(
        config_yaml=crlf(CONFIG),
        plugins_yaml=crlf(PLUGINS).rstrip("\r\n"),
        content_hash="legacy",
        source=ConfigVersion.Source.ADMIN,
    )
    assert version_diffs(admin_client, legacy) == ("", "")
    assert unified_diff("a\r\nb\r\n", "a\nc\n", "old", "new").count("\n-") == 1


def test_rollback_of_a_crlf_version_is_stored_as_lf(admin_client, first_version):
    legacy = ConfigVersion.objects.create(
        config_yaml=crlf(CONFIG.replace("1h", "2h")),
        plugins_yaml=crlf(PLUGINS),
        content_hash="legacy",
        source=ConfigVersion.Source.ADMIN,
    )
    response = admin_client.post(
        reverse("admin:config_configversion_rollback", args=[legacy.pk])
    )
    assert response.status_code == 302
    restored = ConfigVersion.objects.latest()
    assert restored.config_yaml == CONFIG.replace("1h", "2h")
    config_diff, plugins_diff = version_diffs(admin_client, restored)
    assert config_diff == plugins_diff == ""
