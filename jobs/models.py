import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ProwJobType(models.TextChoices):
    PRESUBMIT = "presubmit"
    POSTSUBMIT = "postsubmit"
    PERIODIC = "periodic"
    BATCH = "batch"


class ProwJobState(models.TextChoices):
    TRIGGERED = "triggered"
    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"
    ABORTED = "aborted"
    ERROR = "error"


COMPLETE_STATES = frozenset(
    {
        ProwJobState.SUCCESS,
        ProwJobState.FAILURE,
        ProwJobState.ABORTED,
        ProwJobState.ERROR,
    }
)

UNFINISHED_STATES = frozenset({ProwJobState.TRIGGERED, ProwJobState.PENDING})

# Which state may follow which. A complete job never changes again; an
# aborted job is complete too (its pod, if any, is removed by plank).
ALLOWED_TRANSITIONS = {
    ProwJobState.TRIGGERED: {
        ProwJobState.PENDING,
        ProwJobState.ABORTED,
        ProwJobState.ERROR,
    },
    ProwJobState.PENDING: {
        ProwJobState.PENDING,  # pod recreated after eviction: new build id
        ProwJobState.SUCCESS,
        ProwJobState.FAILURE,
        ProwJobState.ABORTED,
        ProwJobState.ERROR,
    },
}


# The columns that hold a job's spec (what runs, where, reported how), and
# those that repeat parts of its refs so they can be filtered and indexed.
SPEC_COLUMNS = (
    "type",
    "job",
    "agent",
    "cluster",
    "namespace",
    "context",
    "rerun_command",
    "report",
    "max_concurrency",
    "job_queue_name",
    "error_on_eviction",
    "hidden",
    "refs",
    "extra_refs",
    "pod_spec",
    "decoration_config",
    "reporter_config",
    "rerun_auth_config",
)
REFS_COLUMNS = ("org", "repo", "base_ref", "pull_number", "pull_sha", "author")


class ProwJob(models.Model):
    """One run of a job: the original's ProwJob (spec and status) as a row.

    `name` is the original's metadata.name (a UUID) and the pod's name. The
    columns org, repo, base_ref, pull_number and author repeat parts of
    `refs` so Deck and the controllers can filter and index on them.
    """

    name = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=16, choices=ProwJobType.choices)
    job = models.CharField(max_length=255)
    agent = models.CharField(max_length=32, default="kubernetes")
    cluster = models.CharField(max_length=100, default="default")
    namespace = models.CharField(max_length=100, blank=True)
    context = models.CharField(max_length=255, blank=True)
    rerun_command = models.CharField(max_length=255, blank=True)
    report = models.BooleanField(default=False)
    max_concurrency = models.PositiveIntegerField(default=0)
    job_queue_name = models.CharField(max_length=100, blank=True)
    error_on_eviction = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    refs = models.JSONField(null=True, blank=True)
    extra_refs = models.JSONField(default=list, blank=True)
    pod_spec = models.JSONField(null=True, blank=True)
    decoration_config = models.JSONField(null=True, blank=True)
    reporter_config = models.JSONField(null=True, blank=True)
    rerun_auth_config = models.JSONField(null=True, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)

    org = models.CharField(max_length=100, blank=True)
    repo = models.CharField(max_length=100, blank=True)
    base_ref = models.CharField(max_length=255, blank=True)
    pull_number = models.PositiveIntegerField(null=True, blank=True)
    pull_sha = models.CharField(max_length=64, blank=True)
    author = models.CharField(max_length=100, blank=True)

    state = models.CharField(
        max_length=16, choices=ProwJobState.choices, default=ProwJobState.TRIGGERED
    )
    description = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=1000, blank=True)
    pod_name = models.CharField(max_length=253, blank=True)
    build_id = models.CharField(max_length=32, blank=True)
    pod_revival_count = models.PositiveIntegerField(default=0)
    start_time = models.DateTimeField(default=timezone.now)
    pending_time = models.DateTimeField(null=True, blank=True)
    completion_time = models.DateTimeField(null=True, blank=True)
    # reporter name -> last state it reported, so nothing is reported twice.
    prev_report_states = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["job", "-id"], name="prowjob_job"),
            models.Index(fields=["org", "repo", "-id"], name="prowjob_repo"),
            models.Index(fields=["org", "repo", "pull_number"], name="prowjob_pull"),
            models.Index(fields=["state", "-id"], name="prowjob_state"),
            models.Index(fields=["type", "-id"], name="prowjob_type"),
            models.Index(fields=["author", "-id"], name="prowjob_author"),
            # Controllers only ever look at unfinished jobs: keep that small.
            models.Index(
                fields=["state", "job"],
                name="prowjob_unfinished",
                condition=Q(state__in=["triggered", "pending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} #{self.build_id or '-'} ({self.state})"

    def is_complete(self) -> bool:
        return self.completion_time is not None

    @property
    def pulls(self) -> list[dict]:
        return list((self.refs or {}).get("pulls") or [])

    @property
    def base_sha(self) -> str:
        return (self.refs or {}).get("base_sha", "")


class BuildCounter(models.Model):
    """The last build id handed out per job name: ids increase per job, as
    with the original's tot service."""

    job = models.CharField(max_length=255, unique=True)
    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.job}: {self.last}"


class JobArtifact(models.Model):
    """A file kept for a job after its pod is gone: its logs (build-log.txt
    for the test container) and, where the executor can collect them, its
    artifacts. The content lives in Django storage (local disk by default,
    any S3-compatible store by settings)."""

    job = models.ForeignKey(ProwJob, on_delete=models.CASCADE, related_name="artifacts")
    name = models.CharField(max_length=255)
    file = models.FileField(upload_to="prowjobs", max_length=500)
    size = models.BigIntegerField(default=0)
    truncated = models.BooleanField(default=False)
    complete = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "name"], name="artifact_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.name}"


class Watermark(models.Model):
    """How far a catch-up sweep has got, by name (the status reconciler's
    is the last config version it handled). Kept in the database, since a
    cache flush would otherwise make the sweep forget, and start over from
    whatever it finds then."""

    name = models.CharField(max_length=100, unique=True)
    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"

    @classmethod
    def read(cls, name: str) -> int | None:
        return cls.objects.filter(name=name).values_list("value", flat=True).first()

    @classmethod
    def advance(cls, name: str, value: int) -> None:
        """Move the mark to value, never back: a late message about an older
        change must not undo a newer one."""
        _, created = cls.objects.get_or_create(name=name, defaults={"value": value})
        if not created:
            cls.objects.filter(name=name, value__lt=value).update(value=value)
