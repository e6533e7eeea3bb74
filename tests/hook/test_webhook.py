"""POST /hook: who gets in, what is stored, what GitHub is told."""

import hashlib
import json

import pytest

from hook.models import WebhookDelivery
from tests.webhooks import SECRET, fixture_payload, sign

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


@pytest.fixture(autouse=True)
def _broker(clean_broker):
    yield


def test_signed_webhook_is_stored_and_acknowledged(post_webhook):
    payload = fixture_payload("issue_comment.created")
    response = post_webhook("issue_comment", payload, guid="guid-1")
    assert response.status_code == 200
    assert response.content == b"Event received. Have a nice day.\n"
    delivery = WebhookDelivery.objects.get(guid="guid-1")
    assert delivery.event == "issue_comment"
    assert delivery.action == "created"
    assert (delivery.org, delivery.repo) == tuple(
        payload["repository"]["full_name"].split("/")
    )
    assert delivery.sender == payload["sender"]["login"]
    assert delivery.payload == payload
    assert delivery.status == Status.PENDING


def test_wrong_signature_is_refused_and_nothing_stored(post_webhook):
    response = post_webhook("issues", fixture_payload("issues.opened"), secret="nope")
    assert response.status_code == 403
    assert b"Invalid X-Hub-Signature-256 - signature does not match" in response.content
    assert not WebhookDelivery.objects.exists()


def test_missing_signature_is_refused(client, secret_file):
    response = client.post(
        "/hook",
        data=b"{}",
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_GITHUB_DELIVERY="g",
    )
    assert response.status_code == 403
    assert not WebhookDelivery.objects.exists()


def test_legacy_sha1_signature_is_accepted_when_256_is_absent(client, secret_file):
    body = json.dumps(fixture_payload("issues.opened")).encode()
    response = client.post(
        "/hook",
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_GITHUB_DELIVERY="sha1-guid",
        HTTP_X_HUB_SIGNATURE=sign(body, algorithm=hashlib.sha1),
    )
    assert response.status_code == 200
    assert WebhookDelivery.objects.filter(guid="sha1-guid").exists()


def test_bad_256_signature_is_not_rescued_by_a_good_sha1(client, secret_file):
    body = json.dumps(fixture_payload("issues.opened")).encode()
    response = client.post(
        "/hook",
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_GITHUB_DELIVERY="both",
        HTTP_X_HUB_SIGNATURE_256=sign(body, "wrong"),
        HTTP_X_HUB_SIGNATURE=sign(body, algorithm=hashlib.sha1),
    )
    assert response.status_code == 403


def test_rotated_secrets_are_all_accepted(post_webhook, secret_file):
    payload = fixture_payload("issues.opened")
    org = payload["repository"]["owner"]["login"]
    secret_file.write_text(
        "'*':\n"
        "- value: old-global\n  created_at: 2026-01-01T00:00:00Z\n"
        "- value: new-global\n  created_at: 2026-11-01T00:00:00Z\n"
        f"{org}:\n"
        "- value: org-token\n  created_at: 2026-11-01T00:00:00Z\n"
    )
    other = dict(payload, repository=dict(payload["repository"], full_name="x/y"))
    assert post_webhook("issues", other, secret="old-global").status_code == 200
    assert post_webhook("issues", other, secret="new-global").status_code == 200
    # The org has its own token: only it signs that org's webhooks.
    assert post_webhook("issues", payload, secret="org-token").status_code == 200
    assert post_webhook("issues", payload, secret="new-global").status_code == 403
    assert post_webhook("issues", other, secret="org-token").status_code == 403


def test_secret_file_change_is_picked_up(post_webhook, secret_file):
    payload = fixture_payload("issues.opened")
    assert post_webhook("issues", payload, secret=SECRET).status_code == 200
    secret_file.write_text("rotated-secret-with-other-size")
    assert (
        post_webhook(
            "issues", payload, secret="rotated-secret-with-other-size"
        ).status_code
        == 200
    )
    assert post_webhook("issues", payload, secret=SECRET).status_code == 403


def test_no_secret_configured_refuses_everything(client, settings, caplog):
    settings.PROW_HMAC_SECRET_FILE = ""
    body = b"{}"
    response = client.post(
        "/hook",
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_GITHUB_DELIVERY="g",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
    )
    assert response.status_code == 403
    assert "PROW_HMAC_SECRET_FILE is not set" in caplog.text


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("HTTP_X_GITHUB_EVENT", b"Missing X-GitHub-Event Header"),
        ("HTTP_X_GITHUB_DELIVERY", b"Missing X-GitHub-Delivery Header"),
    ],
)
def test_missing_github_headers_give_400(client, secret_file, drop, message):
    body = b"{}"
    headers = {
        "HTTP_X_GITHUB_EVENT": "issues",
        "HTTP_X_GITHUB_DELIVERY": "g",
        "HTTP_X_HUB_SIGNATURE_256": sign(body),
    }
    del headers[drop]
    response = client.post(
        "/hook", data=body, content_type="application/json", **headers
    )
    assert response.status_code == 400
    assert message in response.content
    assert response.content.count(b"\n") == 1  # one line


def test_body_that_is_not_json_gives_400(post_webhook):
    response = post_webhook("issues", None, raw=b"this is not json")
    assert response.status_code == 400
    assert b"not a JSON object" in response.content
    assert not WebhookDelivery.objects.exists()


def test_unsigned_garbage_gets_403_not_400(post_webhook):
    # Nobody learns anything about a body they could not sign.
    response = post_webhook("issues", None, raw=b"garbage", secret="wrong")
    assert response.status_code == 403


def test_form_encoded_webhook_is_refused_with_a_hint(client, secret_file):
    body = b"payload=%7B%7D"
    response = client.post(
        "/hook",
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_GITHUB_EVENT="issues",
        HTTP_X_GITHUB_DELIVERY="g",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
    )
    assert response.status_code == 400
    assert b"only accepts content-type: application/json" in response.content


def test_other_methods_give_405(client):
    response = client.get("/hook")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_bodies_over_25_mb_give_413(post_webhook, settings):
    settings.PROW_HOOK_MAX_BODY_BYTES = 1000  # the same check, smaller numbers
    big = {"zen": "x" * 2000}
    response = post_webhook("ping", big)
    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


def test_default_body_cap_is_githubs_25_mb(settings):
    assert settings.PROW_HOOK_MAX_BODY_BYTES == 25 * 1024 * 1024


def test_ping_is_acknowledged_and_done(post_webhook):
    response = post_webhook("ping", fixture_payload("ping"), guid="ping-1")
    assert response.status_code == 200
    assert WebhookDelivery.objects.get(guid="ping-1").status == Status.DONE


def test_duplicate_guid_is_stored_once(post_webhook):
    payload = fixture_payload("issues.opened")
    for _ in range(3):
        assert post_webhook("issues", payload, guid="same").status_code == 200
    delivery = WebhookDelivery.objects.get(guid="same")
    assert delivery.redeliveries == 2


def test_redelivery_of_a_done_delivery_changes_nothing(post_webhook):
    payload = fixture_payload("issues.opened")
    post_webhook("issues", payload, guid="done-1")
    WebhookDelivery.objects.filter(guid="done-1").update(status=Status.DONE)
    assert post_webhook("issues", payload, guid="done-1").status_code == 200
    assert WebhookDelivery.objects.get(guid="done-1").status == Status.DONE


def test_redelivery_of_a_failed_delivery_is_handled_again(post_webhook):
    payload = fixture_payload("issues.opened")
    post_webhook("issues", payload, guid="failed-1")
    WebhookDelivery.objects.filter(guid="failed-1").update(status=Status.FAILED)
    assert post_webhook("issues", payload, guid="failed-1").status_code == 200
    assert WebhookDelivery.objects.get(guid="failed-1").status == Status.PENDING


@pytest.mark.django_db(transaction=True)  # as in production: no outer transaction
def test_json_the_database_cannot_hold_gets_400(post_webhook):
    response = post_webhook(
        "issues", None, raw=b'{"action": "opened", "x": "a\\u0000b"}'
    )
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_utf16_json_is_stored(post_webhook):
    payload = fixture_payload("issues.opened")
    response = post_webhook(
        "issues", None, raw=json.dumps(payload).encode("utf-16"), guid="u16"
    )
    assert response.status_code == 200
    assert WebhookDelivery.objects.get(guid="u16").payload == payload


def test_unsigned_body_is_refused_without_being_parsed(post_webhook, monkeypatch):
    body = b"[" + b"{}," * 300_000 + b"{}]"
    parsed = []
    real_loads = json.loads

    def loads(text, *args, **kwargs):
        parsed.append(text == body)
        return real_loads(text, *args, **kwargs)

    monkeypatch.setattr("hook.views.json.loads", loads)
    monkeypatch.setattr("hook.views.orjson.loads", loads)
    response = post_webhook("issues", None, raw=body, secret="wrong")
    assert response.status_code == 403
    assert True not in parsed


def test_token_of_another_org_is_refused_even_if_it_signed(post_webhook, secret_file):
    payload = fixture_payload("issues.opened")
    secret_file.write_text(
        "'*':\n- value: global\nsomeone-else:\n- value: other-org-token\n"
    )
    response = post_webhook("issues", payload, secret="other-org-token")
    assert response.status_code == 403
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("depth", [150, 100_000])
def test_deeply_nested_json_gets_400_not_500(post_webhook, depth):
    body = b'{"action": "opened", "x": ' + b"[" * depth + b"]" * depth + b"}"
    response = post_webhook("issues", None, raw=body)
    assert response.status_code == 400
    assert b"nested too deeply" in response.content
    assert not WebhookDelivery.objects.exists()


def test_github_payloads_are_not_too_deep(post_webhook):
    payload = fixture_payload("pull_request.opened")
    assert post_webhook("pull_request", payload, guid="deep-ok").status_code == 200
