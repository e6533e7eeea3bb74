"""sinker: run one garbage-collection sweep now, or see what it would delete.

Beat runs the same sweep every sinker.resync_period; this is for a first
look at a big backlog (--dry-run) or for clearing it by hand. Old webhook
deliveries are hook's: see prune_deliveries.
"""

from jobs.sinker import BATCH_SIZE, sweep
from prow.sweeps import SweepCommand


class Command(SweepCommand):
    help = (
        "Delete old finished ProwJobs (and their stored logs), pods of finished "
        "jobs and orphaned pods."
    )
    batch_size = BATCH_SIZE

    def sweep(self, **options):
        return sweep(**options)

    def sections(self, report):
        return [
            ("prowjobs", report.prowjobs, report.prowjob_names),
            ("pods", report.pods, report.pod_names),
            ("errors", len(report.errors), report.errors),
        ]
