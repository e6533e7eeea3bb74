import hashlib

from django.conf import settings
from django.db import models


class ConfigVersion(models.Model):
    """One accepted state of config.yaml and plugins.yaml together.

    Only configs that passed validation are stored, so the newest row is the
    active config. A rollback stores a new row with an old text, keeping the
    history linear and the rule simple.
    """

    class Source(models.TextChoices):
        ADMIN = "admin", "admin"
        FILE = "file", "file"
        API = "api", "API"
        COMMAND = "command", "command"
        ROLLBACK = "rollback", "rollback"
        MERGE = "merge", "merged pull request"

    config_yaml = models.TextField(blank=True)
    plugins_yaml = models.TextField(blank=True)
    # Hash of both texts as loaded from the files, so the watcher imports a
    # file only when the file itself changed (not when an admin edit made the
    # active text differ from it).
    content_hash = models.CharField(max_length=64, db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_name = models.CharField(max_length=150, blank=True)
    comment = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}" if self.created_at else "unsaved"
        return f"version {self.pk} ({self.get_source_display()}, {when})"

    @staticmethod
    def hash_texts(config_yaml: str, plugins_yaml: str) -> str:
        digest = hashlib.sha256()
        for text in (config_yaml, plugins_yaml):
            data = text.encode()
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return digest.hexdigest()

    def previous(self) -> "ConfigVersion | None":
        return ConfigVersion.objects.filter(pk__lt=self.pk).order_by("-pk").first()
