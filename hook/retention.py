"""How long handled webhook deliveries are kept, and deleting older ones.

A delivery handled more than PROW_DELIVERY_RETENTION_DAYS (14) days ago
goes; a failed one after twice that, to leave time to look into it; 0 keeps
them forever. One never handled (pending, or held by a worker) is the
sweeper's, and stays whatever its age.

Rows are read and deleted in batches of primary keys, each resuming after
the last key seen, so a table of millions of rows is read once, in pieces.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hook.models import WebhookDelivery

logger = logging.getLogger(__name__)

BATCH_SIZE = 5_000
# How many GUIDs the report keeps: enough to check a dry run by eye.
SAMPLE_LIMIT = 100


@dataclass
class PruneReport:
    """What a prune deleted (or, for a dry run, would delete). The count is
    complete; the GUIDs are the first SAMPLE_LIMIT only."""

    dry_run: bool = False
    deliveries: int = 0
    delivery_guids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return f"{verb} {self.deliveries} webhook deliveries"


def delivery_retention() -> timedelta | None:
    """How long a handled webhook delivery is kept (failed ones twice as
    long); None keeps them forever."""
    days = settings.PROW_DELIVERY_RETENTION_DAYS
    return timedelta(days=days) if days and days > 0 else None


def deliveries_prune(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
) -> PruneReport:
    """Delete the handled deliveries older than the retention; with
    dry_run, only report what would go."""
    now = now or timezone.now()
    report = PruneReport(dry_run=dry_run)
    retention = delivery_retention()
    if retention is None:
        return report
    Status = WebhookDelivery.Status
    for status, cutoff in (
        (Status.DONE, now - retention),
        (Status.FAILED, now - 2 * retention),
    ):
        # Age counts from the last attempt: a delivery redelivered by hand
        # yesterday keeps the error it got yesterday.
        old = WebhookDelivery.objects.filter(
            Q(finished_at__lt=cutoff)
            | Q(finished_at__isnull=True, received_at__lt=cutoff),
            status=status,
        )
        last = 0
        while rows := list(
            old.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "guid")[:batch_size]
        ):
            if dry_run:
                report.deliveries += len(rows)
            else:
                # The status again: one handled again meanwhile stays.
                report.deliveries += WebhookDelivery.objects.filter(
                    pk__in=[pk for pk, _ in rows], status=status
                ).delete()[0]
            for _, guid in rows:
                if len(report.delivery_guids) < SAMPLE_LIMIT:
                    report.delivery_guids.append(guid)
            if len(rows) < batch_size:
                break
            last = rows[-1][0]
    logger.info("delivery retention: %s", report.summary())
    return report
