"""Refused webhooks are counted by reason, and a Host that is not allowed
is told which setting to change."""

import json
import logging

import pytest

from hook import refusals
from hook.models import WebhookDelivery
from tests.webhooks import fixture_payload, sign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_counters(private_cache, clean_broker):
    yield


def test_nothing_refused_counts_zero_for_every_reason():
    assert refusals.counts() == dict.fromkeys(refusals.REASONS, 0)


def test_wrong_and_missing_signatures_are_counted(post_webhook, client):
    post_webhook("issues", fixture_payload("issues.opened"), secret="nope")
    response = client.post(
        "/hook",
        data=b"{}",
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_GITHUB_DELIVERY="g",
    )
    assert response.status_code == 403
    assert refusals.counts()[refusals.BAD_SIGNATURE] == 2
    assert not WebhookDelivery.objects.exists()


def test_a_webhook_without_a_configured_secret_is_counted(client, settings, tmp_path):
    settings.PROW_HMAC_SECRET_FILE = str(tmp_path / "missing")
    body = b"{}"
    response = client.post(
        "/hook",
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="ping",
        HTTP_X_GITHUB_DELIVERY="g",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
    )
    assert response.status_code == 403
    assert refusals.counts()[refusals.NO_SECRET] == 1


def test_a_form_encoded_webhook_is_counted(client, secret_file):
    body = b"payload=" + json.dumps(fixture_payload("issues.opened")).encode()
    response = client.post(
        "/hook",
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_GITHUB_DELIVERY="g",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
    )
    assert response.status_code == 400
    assert refusals.counts()[refusals.CONTENT_TYPE] == 1


def test_accepted_webhooks_are_not_counted(post_webhook):
    assert post_webhook("issues", fixture_payload("issues.opened")).status_code == 200
    assert set(refusals.counts().values()) == {0}


def test_a_tunnelled_ping_to_an_unknown_host_names_the_setting(
    client, secret_file, caplog
):
    body = json.dumps({"zen": "Keep it logically awesome."}).encode()
    with caplog.at_level(logging.WARNING, logger="hook.refusals"):
        response = client.post(
            "/hook",
            data=body,
            content_type="application/json",
            HTTP_HOST="abc-123.trycloudflare.com",
            HTTP_X_GITHUB_EVENT="ping",
            HTTP_X_GITHUB_DELIVERY="g",
            HTTP_X_HUB_SIGNATURE_256=sign(body),
        )
    assert response.status_code == 400
    text = response.content.decode()
    assert "'abc-123.trycloudflare.com'" in text
    assert "DJANGO_ALLOWED_HOSTS" in text
    assert "DJANGO_ALLOWED_HOSTS" in caplog.text
    assert "abc-123.trycloudflare.com" in caplog.text
    assert refusals.counts()[refusals.HOST_NOT_ALLOWED] == 1
    assert not WebhookDelivery.objects.exists()


def test_other_pages_name_the_setting_but_are_not_counted_as_webhooks(client):
    response = client.get("/", HTTP_HOST="tunnel.example")
    assert response.status_code == 400
    assert b"DJANGO_ALLOWED_HOSTS" in response.content
    assert refusals.counts()[refusals.HOST_NOT_ALLOWED] == 0


def test_an_allowed_host_passes(client, settings):
    settings.ALLOWED_HOSTS = ["tunnel.example"]
    assert client.get("/healthz", HTTP_HOST="tunnel.example").status_code == 200


def test_unknown_reasons_are_a_programming_error():
    with pytest.raises(ValueError):
        refusals.record("because")
