"""Old handled webhook deliveries go after the retention (failed ones after
twice that); unhandled ones stay whatever their age."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from hook import tasks
from hook.models import WebhookDelivery
from hook.retention import deliveries_prune
from tests.factories import WebhookDeliveryFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def delivery(guid, status, age: timedelta, now=NOW, **fields) -> WebhookDelivery:
    """A delivery received `age` before `now` (and, if handled, handled then)."""
    return WebhookDeliveryFactory(
        guid=guid, status=status, received_at=now - age, **fields
    )


def guids() -> set[str]:
    return set(WebhookDelivery.objects.values_list("guid", flat=True))


def test_deliveries_are_kept_for_the_retention_and_failed_ones_twice_as_long():
    day = timedelta(days=1)
    doomed = [
        delivery("done-15", "done", 15 * day),
        delivery("fail-29", "failed", 29 * day),
    ]
    kept = [
        delivery("done-13", "done", 13 * day),
        delivery("fail-20", "failed", 20 * day),
        # Never handled: the sweeper may still want it; not retention's to drop.
        delivery("pending-90", "pending", 90 * day),
    ]

    report = deliveries_prune(now=NOW, batch_size=1)

    assert report.deliveries == 2
    left = guids()
    assert left == {d.guid for d in kept}
    assert not left & {d.guid for d in doomed}


def test_delivery_retention_is_a_setting(settings):
    settings.PROW_DELIVERY_RETENTION_DAYS = 3
    delivery("done-4", "done", timedelta(days=4))
    delivery("done-2", "done", timedelta(days=2))

    deliveries_prune(now=NOW)

    assert list(WebhookDelivery.objects.values_list("guid", flat=True)) == ["done-2"]


def test_a_retention_of_zero_keeps_every_delivery(settings):
    settings.PROW_DELIVERY_RETENTION_DAYS = 0
    delivery("done-400", "done", timedelta(days=400))

    assert deliveries_prune(now=NOW).deliveries == 0
    assert guids() == {"done-400"}


def test_a_delivery_redelivered_lately_counts_from_its_last_attempt():
    old = delivery(
        "retried", "failed", timedelta(days=60), finished_at=NOW - timedelta(days=1)
    )

    deliveries_prune(now=NOW)

    assert WebhookDelivery.objects.filter(pk=old.pk).exists()


def test_dry_run_lists_what_would_go_and_deletes_nothing():
    old = delivery("done-long-ago", "done", timedelta(days=30))
    delivery("done-lately", "done", timedelta(days=1))

    report = deliveries_prune(now=NOW, dry_run=True, batch_size=1)

    assert report.dry_run
    assert report.deliveries == 1
    assert report.delivery_guids == ["done-long-ago"]
    assert report.summary() == "would delete 1 webhook deliveries"
    assert WebhookDelivery.objects.filter(pk=old.pk).exists()


def test_management_command_prints_the_report(capsys):
    delivery("done-long-ago", "done", timedelta(days=30), now=timezone.now())

    call_command("prune_deliveries", "--dry-run")

    out = capsys.readouterr().out
    assert "would delete 1 webhook deliveries" in out
    assert "done-long-ago" in out
    assert guids() == {"done-long-ago"}


def test_beat_prunes_once_per_period_across_workers():
    cache.delete("hook:pruned")
    delivery("first", "done", timedelta(days=30), now=timezone.now())
    tasks.prune_deliveries()
    assert guids() == set()

    # Beat asks again within the hour: nothing is looked at.
    delivery("second", "done", timedelta(days=30), now=timezone.now())
    tasks.prune_deliveries()
    assert guids() == {"second"}
    cache.delete("hook:pruned")
