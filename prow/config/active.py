"""The active config, as every reader in every process sees it.

Parsing is done once per version and per process. A process re-asks the
database for the newest version id at most every PROW_CONFIG_CACHE_SECONDS,
so a new version reaches web, worker and beat within seconds, without a
restart and without a query or a parse per webhook.
"""

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from prow.config.models import ConfigVersion
from prow.config.plugins_schema import PluginsConfig
from prow.config.schema import ProwConfig
from prow.config.validation import validate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveConfig:
    version_id: int | None
    config: ProwConfig
    plugins: PluginsConfig


EMPTY = ActiveConfig(None, ProwConfig(), PluginsConfig())


class _Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.current: ActiveConfig | None = None
        self.checked_at = 0.0


_cache = _Cache()


def active_config() -> ActiveConfig:
    now = time.monotonic()
    current = _cache.current
    if (
        current is not None
        and now - _cache.checked_at < settings.PROW_CONFIG_CACHE_SECONDS
    ):
        return current
    with _cache.lock:
        newest = (
            ConfigVersion.objects.order_by("-pk").values_list("pk", flat=True).first()
        )
        if _cache.current is None or _cache.current.version_id != newest:
            _cache.current = _load(newest)
        _cache.checked_at = time.monotonic()
        return _cache.current


def forget_cached_config() -> None:
    """Make the next reader ask the database (tests, and after a write in
    this process, so the writer sees its own change at once)."""
    with _cache.lock:
        _cache.checked_at = 0.0


def _load(newest: int | None) -> ActiveConfig:
    if newest is None:
        return EMPTY
    # Stored versions were valid when saved; one that no longer parses (the
    # schema became stricter on upgrade) is skipped for the one before it.
    for version in (
        ConfigVersion.objects.filter(pk__lte=newest).order_by("-pk").iterator()
    ):
        result = validate(version.config_yaml, version.plugins_yaml)
        if result.ok:
            return ActiveConfig(version.pk, result.config, result.plugins)
        logger.error(
            "stored config version %s no longer validates, trying the one before: %s",
            version.pk,
            "; ".join(str(e) for e in result.errors[:5]),
        )
    return EMPTY
