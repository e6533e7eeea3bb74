"""HTTP transport under PyGithub: conditional requests, rate limits, retries.

This does what the original's ghproxy does, in process: every GET response
with an ETag is cached (in the Django cache, Redis in production) and
revalidated with If-None-Match, and GitHub does not charge a 304 against the
rate limit. Rate-limited requests wait and go again (GitHub did not act on
them, so even a write is safe to resend); a 5xx is retried only for reads,
because a write GitHub may have applied must never be sent twice.

Knobs, read from Django settings when a request is sent (all optional):
PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS, the longest wait done in process
(default 60; a longer one raises RateLimited, and a rate limit pauses the
credential in every process: prow.github.pause); PROW_GITHUB_MAX_RETRIES, the
tries after the first for one request (default 3), and
PROW_GITHUB_RETRY_BACKOFF_SECONDS, the first backoff after a 5xx or a network
error (default 0.5, doubling).
"""

import contextlib
import hashlib
import logging
import os
import threading
import time

import requests
from django.conf import settings
from django.core.cache import cache
from github.Requester import (
    HTTPRequestsConnectionClass,
    HTTPSRequestsConnectionClass,
    Requester,
)
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util.retry import Retry

from prow import counters, metrics
from prow.github import pause

logger = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
# Headers kept with a cached body, enough for PyGithub's pagination and for
# the next revalidation.
KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Link")
CACHE_SECONDS = 7 * 24 * 3600
# Connections made without a timeout (PyGithub's redirect-following path
# passes none) would otherwise wait forever on a stuck server.
DEFAULT_TIMEOUT = 30
# GitHub's advice for a secondary limit that names no wait: at least a minute.
UNKNOWN_WAIT = 60.0


class RateLimited(Exception):
    """GitHub asked for a wait longer than this process will sleep; the
    caller should retry later (a Celery retry with countdown)."""

    def __init__(self, retry_after: float, status: int = 403):
        super().__init__(f"GitHub rate limit: retry in {retry_after:.0f}s")
        self.retry_after = retry_after
        self.status = status


class Stats:
    """Cache hits and misses, counted in the shared cache for all processes."""

    KEYS = ("hits", "misses", "rate_limited", "retries")

    def incr(self, name: str) -> None:
        counters.count(f"github:stats:{name}")

    def snapshot(self) -> dict[str, int]:
        values = counters.read([f"github:stats:{k}" for k in self.KEYS])
        return {k: values[f"github:stats:{k}"] for k in self.KEYS}

    def reset(self) -> None:
        counters.reset([f"github:stats:{k}" for k in self.KEYS])


stats = Stats()


def _sleep(seconds: float) -> None:
    """Every wait goes through here, so tests can record waits instead of
    sleeping them."""
    time.sleep(seconds)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def _cache_key(request: requests.PreparedRequest) -> str:
    # Not keyed by credential: every hit is revalidated with the caller's own
    # token, and GitHub answers 304 only when the ETag (a hash of what that
    # caller would get) matches, so sharing entries leaks nothing. Keying by
    # token would also orphan every entry each time an App token rotates.
    accept = request.headers.get("Accept", "")
    digest = hashlib.sha256(f"{accept}\n{request.url}".encode()).hexdigest()
    return f"github:etag:{digest}"


def _cache_get(key: str) -> dict | None:
    try:
        return cache.get(key)
    except Exception:
        # Without the cache a request costs rate limit, but still works.
        logger.warning("github cache unavailable", exc_info=True)
        return None


def _cache_set(key: str, response: requests.Response) -> None:
    headers = response.headers
    entry = {
        "etag": headers["ETag"],
        "body": response.content.decode("utf-8", "replace"),
        "headers": {name: headers[name] for name in KEPT_HEADERS if name in headers},
    }
    try:
        cache.set(key, entry, CACHE_SECONDS)
    except Exception:
        logger.warning("github cache unavailable", exc_info=True)


def _rate_limit_wait(response: requests.Response) -> float | None:
    """Seconds to wait if this response is a rate limit, else None."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("Retry-After")
    if retry_after is not None:
        try:
            return max(float(retry_after), 0.0)
        except ValueError:
            return UNKNOWN_WAIT
    if response.headers.get("X-RateLimit-Remaining") == "0":
        reset = response.headers.get("X-RateLimit-Reset")
        try:
            # One second more: the reset time is rounded to whole seconds.
            return max(float(reset) - time.time(), 0.0) + 1
        except (TypeError, ValueError):
            return UNKNOWN_WAIT
    if response.status_code == 429:
        return UNKNOWN_WAIT
    # A 403 is also a plain permission error; only the message tells them apart.
    body = response.text[:500].lower() if response.content else ""
    if "rate limit" in body or "abuse" in body:
        return UNKNOWN_WAIT
    return None


def _limit_kind(response: requests.Response) -> str:
    if response.headers.get("X-RateLimit-Remaining") == "0":
        return "primary rate limit"
    return "secondary rate limit"


def _discard(response: requests.Response) -> None:
    # Read the body before letting go: closing a connection with unread data
    # resets it, and a read body puts it back in the pool for the retry.
    with contextlib.suppress(requests.RequestException):
        _ = response.content
    response.close()


def _is_conditional(request: requests.PreparedRequest) -> bool:
    headers = request.headers
    return "If-None-Match" in headers or "If-Modified-Since" in headers


class GitHubAdapter(HTTPAdapter):
    def send(self, request, **kwargs):
        cached = None
        key = None
        # A caller's own conditional request (PyGithub's update()) wants the
        # 304 itself, so it passes through untouched.
        if request.method == "GET" and not _is_conditional(request):
            key = _cache_key(request)
            cached = _cache_get(key)
            if cached:
                request.headers["If-None-Match"] = cached["etag"]
        try:
            response = self._send_with_retries(request, **kwargs)
        except Exception:
            metrics.github_failed()
            raise
        metrics.github_response(response)
        if key is None:
            return response
        if response.status_code == 304 and cached:
            stats.incr("hits")
            return self._from_cache(request, response, cached)
        stats.incr("misses")
        if response.status_code == 200 and response.headers.get("ETag"):
            _cache_set(key, response)
        return response

    def _send_with_retries(self, request, **kwargs):
        max_wait = _setting("PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS", 60.0)
        retries = int(_setting("PROW_GITHUB_MAX_RETRIES", 3))
        backoff = _setting("PROW_GITHUB_RETRY_BACKOFF_SECONDS", 0.5)
        read = request.method in IDEMPOTENT
        key = pause.credential_key(request)
        attempt = 0
        # After waiting out its own rate limit, a retry does not wait for the
        # pause again (that wait was it), only for its write slot.
        waited_own_limit = False
        while True:
            if key is not None:
                self._wait_for_turn(
                    request, key, max_wait, check_pause=not waited_own_limit
                )
            waited_own_limit = False
            try:
                response = super().send(request, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                # A write is sent again only if it never left: any other
                # failure may come after GitHub acted on it.
                never_sent = isinstance(exc, requests.ConnectTimeout)
                # Without a credential this is dry mode, often tried with no
                # network at all: say so at once rather than after retries.
                if not (read or never_sent) or attempt >= retries or key is None:
                    raise
                attempt += 1
                stats.incr("retries")
                _sleep(min(backoff * 2 ** (attempt - 1), 8))
                continue
            wait = _rate_limit_wait(response)
            if wait is not None:
                stats.incr("rate_limited")
                if key is not None:
                    pause.pause(key, wait, _limit_kind(response))
                if wait > max_wait or attempt >= retries:
                    _discard(response)
                    raise RateLimited(wait, response.status_code)
                logger.warning(
                    "GitHub rate limit on %s %s; waiting %.1fs",
                    request.method,
                    request.path_url.split("?")[0],
                    wait,
                )
                attempt += 1
                _discard(response)
                _sleep(wait)
                waited_own_limit = True
                continue
            if response.status_code >= 500 and read and attempt < retries:
                attempt += 1
                stats.incr("retries")
                _discard(response)
                _sleep(min(backoff * 2 ** (attempt - 1), 8))
                continue
            return response

    @staticmethod
    def _wait_for_turn(
        request, key: str, max_wait: float, *, check_pause: bool
    ) -> None:
        """Hold the request while its credential is paused, and space
        writes; a wait longer than max_wait is left to a later retry, and
        the request is not sent."""
        paused = pause.paused_for(key) if check_pause else 0.0
        if paused > 0:
            if paused > max_wait:
                raise RateLimited(paused)
            logger.info(
                "GitHub credential paused; %s %s waits %.1fs",
                request.method,
                request.path_url.split("?")[0],
                paused,
            )
            _sleep(paused)
        if pause.creates_content(request):
            spacing = _setting("PROW_GITHUB_WRITE_SPACING_SECONDS", 1.0)
            wait = pause.reserve_write(key, spacing, max_wait)
            if wait is None:
                raise RateLimited(max_wait)
            if wait > 0:
                _sleep(wait)

    @staticmethod
    def _from_cache(request, not_modified, cached) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response.reason = "OK (revalidated)"
        response._content = cached["body"].encode()
        # The 304's own headers carry the current rate limit counters.
        headers = CaseInsensitiveDict(not_modified.headers)
        headers.update(cached["headers"])
        response.headers = headers
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        response.elapsed = not_modified.elapsed
        _discard(not_modified)
        return response


class Routed(Retry):
    """Marks a PyGithub client whose requests go through GitHubAdapter.

    PyGithub lets a program swap its connection classes only for every
    client in the process, and copies a client's settings (this retry object
    among them) into each Requester it derives, including the ones an App
    installation uses. So the marker travels with the client, and a plain
    Github() elsewhere in the process keeps PyGithub's own behaviour.
    """


# PyGithub's urllib3 retries stay off: GitHubAdapter decides what is retried.
ROUTED = Routed(total=0, read=False)

_sessions: dict[int, requests.Session] = {}
_sessions_lock = threading.Lock()


def shared_session() -> requests.Session:
    """One pooled session per process: keep-alive across every request.

    Keyed by process id, because a Celery prefork child must not reuse
    sockets it inherited from its parent.
    """
    pid = os.getpid()
    with _sessions_lock:
        session = _sessions.get(pid)
        if session is None:
            session = requests.Session()
            # Any auth object stops requests from reading ~/.netrc and
            # overwriting the Authorization header PyGithub set.
            session.auth = Requester.noopAuth
            adapter = GitHubAdapter(pool_maxsize=20, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _sessions[pid] = session
        return session


class _SharedSessionMixin:
    """PyGithub's connection class, on the shared session when the client
    carries the ROUTED marker."""

    default_port: int

    def __init__(
        self,
        host,
        port=None,
        strict=False,
        timeout=None,
        retry=None,
        pool_size=None,
        **kwargs,
    ):
        self._shared = isinstance(retry, Routed)
        if not self._shared:
            super().__init__(host, port, strict, timeout, retry, pool_size, **kwargs)
            return
        self.host = host
        self.port = port or self.default_port
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.verify = kwargs.get("verify", True)
        self.retry = 0
        self.pool_size = pool_size
        self.session = shared_session()

    def close(self):
        # The shared session outlives any one PyGithub connection.
        if not self._shared:
            super().close()


class HTTPSConnection(_SharedSessionMixin, HTTPSRequestsConnectionClass):
    protocol = "https"
    default_port = 443


class HTTPConnection(_SharedSessionMixin, HTTPRequestsConnectionClass):
    protocol = "http"
    default_port = 80


_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Let clients built with retry=ROUTED use GitHubAdapter; clients
    without the marker are unaffected."""
    global _installed
    with _install_lock:
        if not _installed:
            Requester.injectConnectionClasses(HTTPConnection, HTTPSConnection)
            _installed = True
