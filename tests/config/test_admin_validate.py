"""The config editor's Validate button: the checks a save runs, and no
save."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from prow.config.active import active_config
from prow.config.models import ConfigVersion
from prow.config.services import config_version_create

pytestmark = pytest.mark.django_db

ADD = reverse("admin:config_configversion_add")
VALID = "periodics:\n- name: p\n  interval: 1h\n  spec: {containers: [{image: a}]}\n"
EDITED = VALID.replace("1h", "2h")
# Saving would refuse this: the regex does not compile (line 4).
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


def validate_post(client, config_yaml, plugins_yaml=""):
    return client.post(
        ADD,
        {
            "config_yaml": config_yaml,
            "plugins_yaml": plugins_yaml,
            "comment": "trying",
            "_validate": "Validate",
        },
        follow=True,
    )


def test_editor_offers_validate_beside_save(admin_client, first_version):
    page = admin_client.get(ADD).content.decode()
    assert 'name="_validate" value="Validate"' in page
    assert 'value="Validate and save"' in page
    # The editor's files come from this server, not from another host.
    assert "/static/prow/config/codemirror/codemirror.js" in page
    assert "/static/prow/config/editor.js" in page


def test_valid_text_is_reported_valid_and_nothing_is_saved(admin_client, first_version):
    response = validate_post(admin_client, EDITED.replace("\n", "\r\n"))
    assert response.status_code == 200
    # No redirect: the editor stays open with the text as typed.
    assert response.redirect_chain == []
    page = response.content.decode()
    assert "Both files are valid. Nothing was saved." in page
    assert response.context["form"].data["config_yaml"] == EDITED.replace("\n", "\r\n")
    assert ConfigVersion.objects.count() == 1
    assert active_config().version_id == first_version.pk
    assert active_config().config.periodics[0].interval == "1h"


def test_warnings_are_shown_on_validate(admin_client, first_version):
    response = validate_post(admin_client, VALID + "bogus_key: 1\n")
    warnings = [
        str(m) for m in response.context["messages"] if m.level_tag == "warning"
    ]
    assert len(warnings) == 1
    assert "config.yaml:5: bogus_key: unknown field" in warnings[0]
    assert ConfigVersion.objects.count() == 1


def test_errors_are_the_ones_saving_gives_and_nothing_is_saved(
    admin_client, first_version
):
    texts = {"config_yaml": BROKEN, "plugins_yaml": "plugins:\n  org: [lgmt]\n"}
    checked = validate_post(admin_client, **texts)
    saved = admin_client.post(ADD, texts)
    assert checked.status_code == saved.status_code == 200
    assert checked.context["form"].errors == saved.context["form"].errors
    page = checked.content.decode()
    assert "Not valid. Nothing was saved." in page
    assert "Both files are valid." not in page
    assert (
        "config.yaml line 4: presubmits[&quot;org/repo&quot;][0].run_if_changed: "
        "could not compile run_if_changed regex" in page
    )
    assert "plugins.yaml line 2: plugins[&quot;org&quot;][0]: unknown plugin" in page
    assert ConfigVersion.objects.count() == 1


def test_validate_needs_the_permission_to_save(client, first_version):
    clerk = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_configversion"))
    client.force_login(clerk)
    response = client.post(
        ADD, {"config_yaml": EDITED, "plugins_yaml": "", "_validate": "Validate"}
    )
    assert response.status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="add_configversion"))
    response = validate_post(client, EDITED)
    assert "Both files are valid. Nothing was saved." in response.content.decode()
    assert ConfigVersion.objects.count() == 1
