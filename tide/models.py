"""What Tide keeps: the pull requests it last read, each pool as the last
sync saw it, the history of its actions, and the `tide` statuses it wrote.

A pool is one branch of one repository (org/repo:branch). Pull requests in
JSON columns are the dicts of tide.pools.pull_summary, so Deck and the API
read one shape.
"""

from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    WAIT = "WAIT", "wait"
    TRIGGER = "TRIGGER", "trigger"
    TRIGGER_BATCH = "TRIGGER_BATCH", "trigger batch"
    MERGE = "MERGE", "merge"
    MERGE_BATCH = "MERGE_BATCH", "merge batch"
    BLOCKED = "BLOCKED", "blocked"
    ERROR = "ERROR", "error"


# The actions worth a history record (waiting is not news).
RECORDED_ACTIONS = frozenset(
    {
        Action.TRIGGER,
        Action.TRIGGER_BATCH,
        Action.MERGE,
        Action.MERGE_BATCH,
        Action.ERROR,
    }
)


class TrackedPull(models.Model):
    """A pull request as the last search read it (a tide.types.TidePull as
    a dict). Kept so that a sync only asks GitHub what changed since."""

    org = models.CharField(max_length=100)
    repo = models.CharField(max_length=100)
    number = models.PositiveIntegerField()
    base_ref = models.CharField(max_length=255)
    data = models.JSONField()
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "repo", "number"], name="tide_tracked_pull"
            )
        ]
        indexes = [models.Index(fields=["org", "repo", "base_ref"])]

    def __str__(self) -> str:
        return f"{self.org}/{self.repo}#{self.number}"


class Pool(models.Model):
    """One branch's merge pool as the last sync left it."""

    org = models.CharField(max_length=100)
    repo = models.CharField(max_length=100)
    branch = models.CharField(max_length=255)
    base_sha = models.CharField(max_length=64, blank=True)
    action = models.CharField(
        max_length=16, choices=Action.choices, default=Action.WAIT
    )
    # Pull request summaries (tide.pools.pull_summary), each with `reason`:
    # what it waits for.
    target = models.JSONField(default=list, blank=True)
    success_prs = models.JSONField(default=list, blank=True)
    pending_prs = models.JSONField(default=list, blank=True)
    missing_prs = models.JSONField(default=list, blank=True)
    # Batches under test at base_sha: [{"pulls": [summary...], "state":
    # "pending"|"success"|"failure", "jobs": [{"name", "job", "state",
    # "url"}]}]. A list, as more than one batch may be in flight.
    batches = models.JSONField(default=list, blank=True)
    # [{"number", "title", "url"}]
    blockers = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    synced_at = models.DateTimeField(default=timezone.now)
    # When Tide last changed the pool (merged, started tests): a sync that
    # read GitHub before then holds stale data for it and must not act.
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["org", "repo", "branch"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "repo", "branch"], name="tide_pool_branch"
            )
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def key(self) -> str:
        return f"{self.org}/{self.repo}:{self.branch}"


class HistoryRecord(models.Model):
    """One thing Tide did to a pool: merged, started tests, or failed to."""

    org = models.CharField(max_length=100)
    repo = models.CharField(max_length=100)
    branch = models.CharField(max_length=255)
    action = models.CharField(max_length=16, choices=Action.choices)
    base_sha = models.CharField(max_length=64, blank=True)
    # [{"number", "author", "sha", "title", "head_ref"}]
    targets = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(
                fields=["org", "repo", "branch", "-created"], name="tide_history_pool"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org}/{self.repo}:{self.branch} {self.action}"

    @property
    def pool_key(self) -> str:
        return f"{self.org}/{self.repo}:{self.branch}"


class WrittenStatus(models.Model):
    """The `tide` status last written on a pull request's head, so the same
    one is never written twice."""

    org = models.CharField(max_length=100)
    repo = models.CharField(max_length=100)
    number = models.PositiveIntegerField()
    head_sha = models.CharField(max_length=64)
    state = models.CharField(max_length=16)
    description = models.CharField(max_length=200)
    target_url = models.CharField(max_length=1000, blank=True)
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "repo", "number"], name="tide_written_status"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org}/{self.repo}#{self.number}: {self.state}"


class SyncMark(models.Model):
    """When the last full and incremental reads of GitHub began, so the
    next one asks only for what changed since (one row per name)."""

    name = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at}"
