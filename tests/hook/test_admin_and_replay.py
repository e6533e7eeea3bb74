"""Deliveries in the admin, and handling them again."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from hook import services
from hook.models import WebhookDelivery
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


@pytest.fixture
def deliveries(post_webhook):
    post_webhook("issues", fixture_payload("issues.opened"), guid="a-issue")
    post_webhook("push", fixture_payload("push"), guid="a-push")
    WebhookDelivery.objects.filter(guid="a-push").update(
        status=Status.FAILED, plugin_results={"x:push": "ok", "y:push": "boom"}
    )
    return WebhookDelivery.objects.all()


def test_deliveries_list_filters_by_event_and_status(admin_client, deliveries):
    url = reverse("admin:hook_webhookdelivery_changelist")
    page = admin_client.get(url, {"event": "push"}).content.decode()
    assert "a-push" in page and "a-issue" not in page
    page = admin_client.get(url, {"status__exact": "pending"}).content.decode()
    assert "a-issue" in page and "a-push" not in page


def test_delivery_payload_is_readable(admin_client, deliveries):
    delivery = WebhookDelivery.objects.get(guid="a-issue")
    url = reverse("admin:hook_webhookdelivery_change", args=[delivery.pk])
    page = admin_client.get(url).content.decode()
    assert "&quot;action&quot;: &quot;opened&quot;" in page
    assert "<pre" in page


def test_replay_action_requeues(
    admin_client, deliveries, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(services, "_enqueue", queued.append)
    failed = WebhookDelivery.objects.get(guid="a-push")
    url = reverse("admin:hook_webhookdelivery_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"action": "replay_failed_plugins", "_selected_action": [failed.pk]}
        )
    assert response.status_code == 302
    assert queued == [failed.pk]
    failed.refresh_from_db()
    assert failed.status == Status.PENDING
    # Plugins that finished stay finished; the failed one will run again.
    assert failed.plugin_results == {"x:push": "ok", "y:push": "boom"}


def test_replay_command_by_guid_and_failed(deliveries):
    out = StringIO()
    call_command("replay_deliveries", "--failed", "--all-plugins", stdout=out)
    assert "1 deliveries queued" in out.getvalue()
    failed = WebhookDelivery.objects.get(guid="a-push")
    assert failed.status == Status.PENDING
    assert failed.plugin_results == {}
    with pytest.raises(CommandError, match="no delivery with GUID nope"):
        call_command("replay_deliveries", "nope")
