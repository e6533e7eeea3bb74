"""Writing config versions: from the admin, the API, the command line, files."""

import logging
from pathlib import Path

from django.db import transaction

from prow.config.active import forget_cached_config
from prow.config.models import ConfigVersion
from prow.config.text import normalize_newlines
from prow.config.validation import ValidationResult, validate
from prow.locks import transaction_lock
from prow.tasks import enqueue

logger = logging.getLogger(__name__)


class ConfigInvalid(Exception):
    def __init__(self, result: ValidationResult):
        self.result = result
        super().__init__("; ".join(str(e) for e in result.errors))


def config_version_create(
    *,
    config_yaml: str,
    plugins_yaml: str,
    source: str,
    author=None,
    comment: str = "",
) -> ConfigVersion:
    """Validate both texts and store them as the new active version.

    Raises ConfigInvalid, storing nothing, when either text has errors.
    """
    config_yaml = normalize_newlines(config_yaml)
    plugins_yaml = normalize_newlines(plugins_yaml)
    result = validate(config_yaml, plugins_yaml)
    if not result.ok:
        raise ConfigInvalid(result)
    with transaction.atomic():
        # Serialises config writers across processes (SQLite serialises
        # writers itself).
        transaction_lock("config:writes")
        previous = (
            ConfigVersion.objects.order_by("-pk").values_list("pk", flat=True).first()
        )
        version = ConfigVersion.objects.create(
            config_yaml=config_yaml,
            plugins_yaml=plugins_yaml,
            content_hash=ConfigVersion.hash_texts(config_yaml, plugins_yaml),
            source=source,
            author=author if author is not None and author.is_authenticated else None,
            author_name=getattr(author, "username", "") or "",
            comment=comment,
            warnings=[str(w) for w in result.warnings],
        )
        transaction.on_commit(
            lambda: _announce_change(previous, version.pk), robust=True
        )
    # This process sees its own change at once; others within
    # PROW_CONFIG_CACHE_SECONDS.
    forget_cached_config()
    return version


def _announce_change(previous: int | None, new: int) -> None:
    """Open pull requests may need jobs or statuses because of the change:
    the status reconciler decides, on a worker."""
    if previous is None:
        return
    try:
        enqueue("jobs.tasks.reconcile_config", previous, new)
    except Exception as exc:  # broker down: reconcile_missed_configs catches it
        logger.warning("could not enqueue the reconcile of version %s: %s", new, exc)


def config_rollback(*, version: ConfigVersion, author=None) -> ConfigVersion:
    """Make an old version's text active again, as a new version."""
    return config_version_create(
        config_yaml=version.config_yaml,
        plugins_yaml=version.plugins_yaml,
        source=ConfigVersion.Source.ROLLBACK,
        author=author,
        comment=f"Rollback to version {version.pk}",
    )


def read_config_files(config_path: str, plugins_path: str) -> tuple[str, str]:
    """Both files' text. A path that is not set reads as empty."""
    texts = []
    for path in (config_path, plugins_path):
        texts.append(Path(path).read_text(encoding="utf-8") if path else "")
    return texts[0], texts[1]


_last_rejected_hash: str | None = None


def _last_file_hash() -> str | None:
    """The content hash of the newest version imported from the files."""
    return (
        ConfigVersion.objects.filter(source=ConfigVersion.Source.FILE)
        .order_by("-pk")
        .values_list("content_hash", flat=True)
        .first()
    )


def config_sync_files(*, config_path: str, plugins_path: str) -> ConfigVersion | None:
    """Import the files if they changed since they were last imported.

    Compares against the newest version that came from the files, not the
    active one, so edits made in the admin are not overwritten by a file
    that has not changed. Files are read by path every time, which also
    follows the symlink swap a Kubernetes ConfigMap update makes.
    """
    global _last_rejected_hash
    try:
        config_yaml, plugins_yaml = read_config_files(config_path, plugins_path)
    except OSError as exc:
        logger.error("config files unreadable, keeping the active config: %s", exc)
        return None
    # Hashed as they will be stored, or a CRLF file would be imported anew
    # on every check.
    config_yaml = normalize_newlines(config_yaml)
    plugins_yaml = normalize_newlines(plugins_yaml)
    content_hash = ConfigVersion.hash_texts(config_yaml, plugins_yaml)
    if content_hash == _last_file_hash():
        return None
    try:
        with transaction.atomic():
            transaction_lock("config:writes")
            # Another process may have imported the same change meanwhile.
            if content_hash == _last_file_hash():
                return None
            version = config_version_create(
                config_yaml=config_yaml,
                plugins_yaml=plugins_yaml,
                source=ConfigVersion.Source.FILE,
                comment=f"Loaded from {config_path} and {plugins_path}",
            )
    except ConfigInvalid as exc:
        if content_hash != _last_rejected_hash:
            _last_rejected_hash = content_hash
            logger.error(
                "config files rejected, keeping the active config:\n%s",
                "\n".join(str(e) for e in exc.result.errors),
            )
        return None
    logger.info("config version %s loaded from files", version.pk)
    return version
