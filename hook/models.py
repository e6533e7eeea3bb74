import json

import psycopg
from django.db import InterfaceError, OperationalError, connection, models
from django.db.models import F, Q
from django.utils import timezone


class JSONText(models.TextField):
    """A JSON value kept as text, read back as the parsed value.

    A webhook's payload is written once, in the request, as the text GitHub
    sent, and parsed again only by whoever reads it (a worker, Deck, the
    admin). As jsonb, PostgreSQL would parse every body on the way in, about
    a third of the database's work for a stored webhook; nothing queries
    inside the payload, so nothing is lost by keeping text.
    """

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def to_python(self, value):
        if isinstance(value, str | bytes):
            return json.loads(value)
        return value

    def get_prep_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))


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
    payload = JSONText()
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


# The hot path of every webhook: one statement, no model instance. A GUID
# seen before inserts nothing and returns no row (GitHub's "Redeliver").
_INSERT = """
    INSERT INTO hook_webhookdelivery (guid, event, action, org, repo, sender,
        payload, status, received_at, finished_at, attempts, last_error,
        plugin_results, redeliveries)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, '', '{}', 0)
    ON CONFLICT (guid) DO NOTHING
    RETURNING id
"""


def delivery_insert(row: list) -> int | None:
    """Insert a new delivery (the values of _INSERT's placeholders, the
    payload as JSON text) and return its id, or None if its GUID is known.

    On PostgreSQL the statement goes straight to psycopg with its values
    bound by the server: the 15-30 KB body is neither quoted into the SQL
    text nor parsed as SQL. (It is not a prepared statement: Django leaves
    psycopg's prepare_threshold unset, which keeps PgBouncer's transaction
    pooling usable.) Django's per-request health check, a SELECT 1 before
    the first query, is not run either: a connection found broken instead
    is replaced and the insert tried once more, which is safe because a
    GUID already stored inserts nothing.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_INSERT, row)
            found = cursor.fetchone()
        return found[0] if found else None
    retry = connection.connection is not None and not connection.in_atomic_block
    while True:
        connection.ensure_connection()
        try:
            with (
                connection.wrap_database_errors,
                psycopg.Cursor(connection.connection) as cursor,
            ):
                cursor.execute(_INSERT, row)
                found = cursor.fetchone()
            return found[0] if found else None
        except (OperationalError, InterfaceError):
            if not retry or connection.is_usable():
                raise
            # Left over from before the database restarted, or closed by it
            # while idle: what Django's health check would have caught.
            connection.close()
            retry = False
