"""Counters every process shares, kept in the shared cache.

They are for people and dashboards (GitHub cache hits, refused webhooks):
a cache outage loses a count, never fails the call that made it.
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def count(key: str) -> None:
    """Add one to the counter key (created at 0, never expiring)."""
    try:
        try:
            cache.incr(key)
        except ValueError:
            cache.add(key, 0, None)
            cache.incr(key)
    except Exception:
        logger.warning("cannot count %s", key, exc_info=True)


def read(keys: list[str]) -> dict[str, int]:
    """Each counter's value, 0 for one never counted."""
    values = cache.get_many(keys)
    return {key: int(values.get(key, 0)) for key in keys}


def reset(keys: list[str]) -> None:
    cache.delete_many(keys)
