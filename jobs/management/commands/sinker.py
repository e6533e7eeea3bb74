"""sinker: run one garbage-collection sweep now, or see what it would delete.

Beat runs the same sweep every sinker.resync_period; this is for a first
look at a big backlog (--dry-run) or for clearing it by hand. Old webhook
deliveries are hook's: see prune_deliveries.
"""

from django.core.management.base import BaseCommand

from jobs.sinker import BATCH_SIZE, sweep


class Command(BaseCommand):
    help = (
        "Delete old finished ProwJobs (and their stored logs), pods of finished "
        "jobs and orphaned pods."
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
        report = sweep(dry_run=dry_run, batch_size=batch_size)
        self.stdout.write(report.summary())
        sections = [
            ("prowjobs", report.prowjobs, report.prowjob_names),
            ("pods", report.pods, report.pod_names),
            ("errors", len(report.errors), report.errors),
        ]
        for title, count, names in sections:
            if not names:
                continue
            shown = f" (first {len(names)} of {count})" if count > len(names) else ""
            self.stdout.write(f"\n{title}{shown}:")
            for name in names:
                self.stdout.write(f"  {name}")
