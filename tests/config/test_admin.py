"""Editing the config in the admin: validated on save, versioned, diffable."""

import pytest
from django.urls import reverse

from prow.config.active import active_config
from prow.config.models import ConfigVersion
from prow.config.services import config_version_create

pytestmark = pytest.mark.django_db

ADD = reverse("admin:config_configversion_add")
VALID = "periodics:\n- name: p\n  interval: 1h\n  spec: {containers: [{image: a}]}\n"
EDITED = "periodics:\n- name: p\n  interval: 2h\n  spec: {containers: [{image: a}]}\n"
BROKEN = (
    "presubmits:\n"
    "  org/repo:\n"
    "  - name: unit\n"
    "    run_if_changed: '(('\n"
    "    spec: {containers: [{image: a}]}\n"
)


@pytest.fixture
def first_version():
    return config_version_create(
        config_yaml=VALID, plugins_yaml="", source=ConfigVersion.Source.FILE
    )


def test_edit_form_starts_from_the_active_text(admin_client, first_version):
    response = admin_client.get(ADD)
    assert response.status_code == 200
    assert response.context["form"].initial["config_yaml"] == VALID
    assert "Validate and save" in response.content.decode()


def test_invalid_edit_is_refused_with_line_and_nothing_changes(
    admin_client, first_version
):
    response = admin_client.post(
        ADD, {"config_yaml": BROKEN, "plugins_yaml": "plugins:\n  org: [lgmt]\n"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert (
        "config.yaml line 4: presubmits[&quot;org/repo&quot;][0].run_if_changed: "
        "could not compile run_if_changed regex" in page
    )
    assert "plugins.yaml line 2: plugins[&quot;org&quot;][0]: unknown plugin" in page
    # The text typed is kept on the form, so nothing is lost either.
    assert response.context["form"].data["config_yaml"] == BROKEN
    assert ConfigVersion.objects.count() == 1
    assert active_config().version_id == first_version.pk


def test_valid_edit_becomes_active_with_its_author(
    admin_client, admin_user, first_version
):
    response = admin_client.post(
        ADD, {"config_yaml": EDITED, "plugins_yaml": "", "comment": "slower"}
    )
    version = ConfigVersion.objects.latest()
    assert response.status_code == 302
    assert response.url == reverse(
        "admin:config_configversion_change", args=[version.pk]
    )
    assert version.pk != first_version.pk
    assert version.source == ConfigVersion.Source.ADMIN
    assert version.author == admin_user
    assert version.comment == "slower"
    assert active_config().version_id == version.pk
    assert active_config().config.periodics[0].interval == "2h"


def test_version_page_shows_the_diff_against_the_previous(admin_client, first_version):
    second = config_version_create(
        config_yaml=EDITED, plugins_yaml="", source=ConfigVersion.Source.ADMIN
    )
    response = admin_client.get(
        reverse("admin:config_configversion_change", args=[second.pk])
    )
    assert response.status_code == 200
    diff = response.context["config_diff"]
    assert f"--- config.yaml (version {first_version.pk})" in diff
    assert "-  interval: 1h\n" in diff
    assert "+  interval: 2h\n" in diff
    assert response.context["is_active"] is True


def test_rollback_from_the_admin(admin_client, first_version):
    config_version_create(config_yaml=EDITED, plugins_yaml="", source="admin")
    url = reverse("admin:config_configversion_rollback", args=[first_version.pk])
    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url)
    restored = ConfigVersion.objects.latest()
    assert response.status_code == 302
    assert restored.source == ConfigVersion.Source.ROLLBACK
    assert restored.config_yaml == VALID
    assert active_config().version_id == restored.pk


def test_version_list_marks_the_active_one(admin_client, first_version):
    response = admin_client.get(reverse("admin:config_configversion_changelist"))
    assert response.status_code == 200
    assert "<strong>active</strong>" in response.content.decode()


def test_anonymous_users_cannot_edit(client, first_version):
    response = client.post(ADD, {"config_yaml": EDITED, "plugins_yaml": ""})
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert ConfigVersion.objects.count() == 1
