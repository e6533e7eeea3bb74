"""prune_deliveries: delete old handled webhook deliveries now, or see which
would go. Beat does the same every hour (hook.tasks.prune_deliveries)."""

from hook.retention import BATCH_SIZE, deliveries_prune
from prow.sweeps import SweepCommand


class Command(SweepCommand):
    help = (
        "Delete webhook deliveries handled more than PROW_DELIVERY_RETENTION_DAYS "
        "days ago (failed ones: twice that)."
    )
    batch_size = BATCH_SIZE

    def sweep(self, **options):
        return deliveries_prune(**options)

    def sections(self, report):
        return [("webhook deliveries", report.deliveries, report.delivery_guids)]
