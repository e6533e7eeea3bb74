from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class WebhookDelivery(models.Model):
    """One webhook GitHub sent, stored before it is acknowledged.

    The GUID is GitHub's X-GitHub-Delivery; GitHub keeps it when someone
    presses "Redeliver", which is how a failed delivery is retried.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        PROCESSING = "processing", "processing"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    guid = models.CharField(max_length=100, unique=True)
    event = models.CharField(max_length=64, db_index=True)
    action = models.CharField(max_length=64, blank=True)
    org = models.CharField(max_length=100, blank=True)
    repo = models.CharField(max_length=100, blank=True)
    sender = models.CharField(max_length=100, blank=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # plugin name -> "ok" or the error, so a retry runs only what did not
    # finish, and nothing twice.
    plugin_results = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    redeliveries = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-received_at"]
        indexes = [
            # The sweeper's query: unfinished deliveries by age.
            models.Index(
                fields=["status", "received_at"],
                name="delivery_unfinished",
                condition=Q(status__in=["pending", "processing"]),
            ),
            models.Index(fields=["org", "repo", "-received_at"], name="delivery_repo"),
        ]

    def __str__(self) -> str:
        what = f"{self.event}.{self.action}" if self.action else self.event
        where = f" {self.full_repo}" if self.repo else ""
        return f"{what}{where} ({self.guid})"

    @property
    def full_repo(self) -> str:
        return f"{self.org}/{self.repo}" if self.repo else self.org

    @classmethod
    def claim(cls, pk: int, stale_before) -> bool:
        """Mark the delivery as being handled by this worker, if nobody else
        is. A delivery whose handler has been silent since stale_before (its
        worker died) may be claimed again."""
        claimable = Q(status__in=[cls.Status.PENDING, cls.Status.FAILED]) | Q(
            status=cls.Status.PROCESSING, started_at__lt=stale_before
        )
        updated = cls.objects.filter(claimable, pk=pk).update(
            status=cls.Status.PROCESSING,
            attempts=F("attempts") + 1,
            started_at=timezone.now(),
        )
        return updated == 1
