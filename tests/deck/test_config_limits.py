"""Config typed into the API or the admin is capped in size before any YAML
is parsed, and checking config without saving it is rate-limited: both keep
one user from holding the web threads that also take GitHub's webhooks."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token

from prow.config.models import ConfigVersion

pytestmark = pytest.mark.django_db

VALIDATE = "/api/v1/config/validate/"
VERSIONS = "/api/v1/config/versions/"


def token_client(name: str, **extra) -> Client:
    who = get_user_model().objects.create_user(name, password="x", **extra)
    key = Token.objects.create(user=who).key
    return Client(headers={"authorization": f"Token {key}"})


@pytest.fixture
def alice():
    return token_client("alice")


@pytest.fixture
def staff():
    return token_client("root", is_staff=True)


def post(client, url, **texts):
    return client.post(url, texts, content_type="application/json")


def test_default_cap_is_one_megabyte(settings):
    assert settings.PROW_CONFIG_TEXT_MAX_BYTES == 1024 * 1024


def test_text_over_one_megabyte_is_refused_before_parsing(alice, staff, monkeypatch):
    parsed = []
    monkeypatch.setattr("deck.api.config.validate", lambda *texts: parsed.append(texts))
    # A valid YAML file (nothing but comments) just over the cap.
    text = "# padding\n" * (1024 * 1024 // 10 + 1)
    for field in ("config_yaml", "plugins_yaml"):
        response = post(alice, VALIDATE, **{field: text})
        assert response.status_code == 400
        assert "at most 1048576 bytes" in response.json()[field][0]
        response = post(
            staff, VERSIONS, **{"config_yaml": "", "plugins_yaml": "", field: text}
        )
        assert response.status_code == 400
        assert "at most 1048576 bytes" in response.json()[field][0]
    assert parsed == []
    assert not ConfigVersion.objects.exists()


def test_cap_counts_bytes_not_characters(alice, settings):
    settings.PROW_CONFIG_TEXT_MAX_BYTES = 100
    assert post(alice, VALIDATE, config_yaml="#" + "x" * 99).status_code == 200
    assert post(alice, VALIDATE, config_yaml="#" + "x" * 100).status_code == 400
    # 51 characters, 101 bytes.
    assert post(alice, VALIDATE, config_yaml="#" + "é" * 50).status_code == 400


def test_admin_refuses_text_over_the_cap(client, settings):
    settings.PROW_CONFIG_TEXT_MAX_BYTES = 100
    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    response = client.post(
        "/admin/config/configversion/add/",
        {"config_yaml": "#" + "x" * 200, "plugins_yaml": "", "comment": "big"},
    )
    assert response.status_code == 200
    assert "at most 100 bytes are accepted here" in response.content.decode()
    assert not ConfigVersion.objects.exists()
    accepted = client.post(
        "/admin/config/configversion/add/",
        {"config_yaml": "#" + "x" * 50, "plugins_yaml": "", "comment": "small"},
    )
    assert accepted.status_code == 302
    assert ConfigVersion.objects.count() == 1


def test_validation_is_rate_limited_per_user_but_not_for_staff(alice, staff, settings):
    settings.PROW_CONFIG_VALIDATE_RATE = "3/minute"
    answers = [post(alice, VALIDATE, config_yaml="").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    # Another user has their own allowance; staff have no limit.
    assert post(token_client("bob"), VALIDATE, config_yaml="").status_code == 200
    staff_answers = {
        post(staff, VALIDATE, config_yaml="").status_code for _ in range(5)
    }
    assert staff_answers == {200}
