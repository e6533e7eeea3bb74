"""The shape of a management command that runs one clean-up sweep now
(sinker, prune_deliveries): --dry-run, --batch-size, and a report listing
what was (or would be) deleted."""

from collections.abc import Iterable

from django.core.management.base import BaseCommand


class SweepCommand(BaseCommand):
    # Each command sets its default batch size.
    batch_size = 1000

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="list what would be deleted, delete nothing",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=self.batch_size,
            help=f"rows per DELETE (default {self.batch_size})",
        )

    def handle(self, *args, dry_run, batch_size, **options):
        report = self.sweep(dry_run=dry_run, batch_size=batch_size)
        self.stdout.write(report.summary())
        for title, count, names in self.sections(report):
            if not names:
                continue
            shown = f" (first {len(names)} of {count})" if count > len(names) else ""
            self.stdout.write(f"\n{title}{shown}:")
            for name in names:
                self.stdout.write(f"  {name}")

    def sweep(self, *, dry_run: bool, batch_size: int):
        """Run the sweep; returns its report (with a summary())."""
        raise NotImplementedError

    def sections(self, report) -> Iterable[tuple[str, int, list[str]]]:
        """(title, how many, the names listed) per kind of thing deleted."""
        raise NotImplementedError
