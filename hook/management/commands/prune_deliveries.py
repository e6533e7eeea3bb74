"""prune_deliveries: delete old handled webhook deliveries now, or see which
would go. Beat does the same every hour (hook.tasks.prune_deliveries)."""

from django.core.management.base import BaseCommand

from hook.retention import BATCH_SIZE, deliveries_prune


class Command(BaseCommand):
    help = (
        "Delete webhook deliveries handled more than PROW_DELIVERY_RETENTION_DAYS "
        "days ago (failed ones: twice that)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="list what would be deleted, delete nothing",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"rows per DELETE (default {BATCH_SIZE})",
        )

    def handle(self, *args, dry_run, batch_size, **options):
        report = deliveries_prune(dry_run=dry_run, batch_size=batch_size)
        self.stdout.write(report.summary())
        if report.delivery_guids:
            count, guids = report.deliveries, report.delivery_guids
            shown = f" (first {len(guids)} of {count})" if count > len(guids) else ""
            self.stdout.write(f"\nwebhook deliveries{shown}:")
            for guid in guids:
                self.stdout.write(f"  {guid}")
