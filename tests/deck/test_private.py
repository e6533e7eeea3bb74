"""PROW_DECK_PUBLIC off: reading needs a login or an API token, while the
webhook, health checks, the login pages and static files stay reachable."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def private(settings):
    settings.PROW_DECK_PUBLIC = False


def test_public_by_default(client):
    assert client.get("/").status_code == 200
    assert client.get("/prowjobs.js").status_code == 200
    assert client.get("/api/v1/prowjobs/").status_code == 200


def test_pages_send_strangers_to_log_in(client, private):
    response = client.get("/job-history/unit?before=5")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/job-history/unit%3Fbefore%3D5"


@pytest.mark.parametrize(
    "path",
    [
        "/prowjobs.js",
        "/tide.js",
        "/badge.svg?jobs=a",
        "/plugin-help",
        "/api/v1/prowjobs/",
        "/api/schema/",
    ],
)
def test_machine_addresses_answer_401(client, private, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_login_or_a_token_opens_it(client, private):
    user = get_user_model().objects.create_user("reader", password="x")
    token = Token.objects.create(user=user)
    assert (
        client.get("/api/v1/prowjobs/", HTTP_AUTHORIZATION="Token nope").status_code
        == 401
    )
    assert (
        client.get(
            "/api/v1/prowjobs/", HTTP_AUTHORIZATION=f"Token {token.key}"
        ).status_code
        == 200
    )
    client.force_login(user)
    assert client.get("/").status_code == 200
    assert client.get("/prowjobs.js").status_code == 200


def test_what_must_stay_open_does(client, private):
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/static/deck/deck.css").status_code == 200
    # The webhook is reached (and refused for its missing headers, not for
    # a missing login).
    assert (
        client.post("/hook", b"{}", content_type="application/json").status_code == 400
    )
