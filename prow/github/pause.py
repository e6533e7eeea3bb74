"""A rate limit pauses the credential, not one call, in every process.

GitHub asks that once a secondary rate limit is hit (or the primary one is
used up) nothing more is sent with that token until the time has passed:
requests that keep coming extend the limit and can get the integration
blocked. So whichever process sees the limit records until when its
credential is paused in the shared cache (Redis in production), and every
process looks there before sending. Content-creating requests are also
spaced (PROW_GITHUB_WRITE_SPACING_SECONDS apart per credential, GitHub's one
second), so the secondary limit is rarely reached at all.

A credential is the Authorization header sent to one GitHub host: a token,
or an App installation's current token. Only a short hash of it is stored
or shown. A cache outage turns both off rather than failing calls.
"""

import hashlib
import json
import logging
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from django.core.cache import cache

logger = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# Every pause in effect, for the health page.
INDEX = "github:paused"
# A process that dies holding the spacing lock holds it this long at most.
LOCK_SECONDS = 5
LOCK_POLL_SECONDS = 0.01


def credential_key(request: requests.PreparedRequest) -> str | None:
    auth = request.headers.get("Authorization")
    if not auth:
        return None
    host = urlsplit(request.url or "").netloc
    return hashlib.sha256(f"{host}\n{auth}".encode()).hexdigest()[:16]


def _label(key: str) -> str:
    return f"credential {key[:8]}"


def _until_key(key: str) -> str:
    return f"github:pause:{key}"


def paused_for(key: str) -> float:
    """Seconds left before key may be used again; 0 when it is not paused."""
    try:
        until = cache.get(_until_key(key))
    except Exception:
        logger.warning("github pause marker unreadable", exc_info=True)
        return 0.0
    return max(until - time.time(), 0.0) if until else 0.0


def pause(key: str, seconds: float, reason: str) -> None:
    """Pause key for every process for `seconds` (never shortening a longer
    pause already recorded)."""
    now = time.time()
    until = now + seconds
    try:
        current = cache.get(_until_key(key))
        if current is None or current < until:
            cache.set(_until_key(key), until, int(seconds) + 2)
        entries = {
            k: v for k, v in (cache.get(INDEX) or {}).items() if v["until"] > now
        }
        if key not in entries or entries[key]["until"] < until:
            entries[key] = {"credential": _label(key), "until": until, "reason": reason}
        latest = max(entry["until"] for entry in entries.values())
        cache.set(INDEX, entries, int(latest - now) + 2)
    except Exception:
        logger.warning("github pause not shared", exc_info=True)
    logger.warning(
        "GitHub %s: %s paused for %.1fs in every process", reason, _label(key), seconds
    )


def paused_credentials() -> list[dict[str, str]]:
    """The credentials paused now: which (a short hash), until when (UTC),
    and why."""
    try:
        entries = cache.get(INDEX) or {}
    except Exception:
        logger.warning("github pauses unreadable", exc_info=True)
        return []
    now = time.time()
    return [
        {
            "credential": entry["credential"],
            "until": datetime.fromtimestamp(entry["until"], UTC).isoformat(
                timespec="seconds"
            ),
            "reason": entry["reason"],
        }
        for entry in sorted(entries.values(), key=lambda e: e["until"])
        if entry["until"] > now
    ]


def creates_content(request: requests.PreparedRequest) -> bool:
    """Whether GitHub counts this request as a write to be spaced: REST
    writes, and GraphQL mutations (not queries, which POST too)."""
    if request.method not in WRITE_METHODS:
        return False
    if not request.path_url.split("?")[0].endswith("/graphql"):
        return True
    try:
        query = json.loads(request.body or b"{}").get("query", "")
    except (ValueError, AttributeError):
        return True
    return query.lstrip().startswith("mutation")


def reserve_write(key: str, spacing: float, max_wait: float) -> float | None:
    """Take the next write slot for key: seconds to wait before sending, or
    None when that would be longer than max_wait (nothing is reserved)."""
    if spacing <= 0:
        return 0.0
    lock = f"github:writelock:{key}"
    last_key = f"github:lastwrite:{key}"
    try:
        deadline = time.monotonic() + LOCK_SECONDS
        locked = cache.add(lock, 1, LOCK_SECONDS)
        while not locked and time.monotonic() < deadline:
            time.sleep(LOCK_POLL_SECONDS)
            locked = cache.add(lock, 1, LOCK_SECONDS)
        try:
            now = time.time()
            at = max(now, (cache.get(last_key) or 0.0) + spacing)
            if at - now > max_wait:
                return None
            cache.set(last_key, at, int(spacing) + 60)
            return at - now
        finally:
            if locked:
                cache.delete(lock)
    except Exception:
        logger.warning("github write spacing unavailable", exc_info=True)
        return 0.0
