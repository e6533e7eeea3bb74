"""A POST to an API address without its trailing slash gets the same JSON
hint as a GET, not Django's HTML CSRF page."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_post_without_the_slash_gets_the_json_hint():
    user = get_user_model().objects.create_user("alice", is_staff=True)
    token = Token.objects.create(user=user)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token.key}")
    for method in (client.get, client.post):
        response = method("/api/v1/periodics/echo-test/run")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "detail": "No such API endpoint. "
            "Did you mean /api/v1/periodics/echo-test/run/ ?"
        }
