"""Calls to services outside this system: external plugins, and the image and
joke APIs some plugins quote from.

Every call here keeps the same rules, so no plugin has to remember them:

1. One deadline for the whole call (connecting, redirects, headers, body).
   A socket timeout only bounds each read, so a server that sends a byte
   now and then could otherwise hold a worker for ever.
2. A cap on the answer's size, enforced while reading: a larger answer is
   refused, never buffered whole.
3. Redirects are followed, a few, and only to http and https addresses.
4. No retries: the caller's task decides whether to try again, once.
5. Failures are OutsideServiceError (permanent: a 4xx, a bad answer, a bad
   address) or OutsideServiceUnavailable (try later: a timeout, a refused
   connection, a 5xx, a 429, with the Retry-After the other side asked for).
6. Addresses are logged and quoted in errors without their query string or
   credentials: that is where API keys travel.
"""

import contextlib
import email.utils
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from prow.errors import OutsideError, TransientError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "Prow"
SCHEMES = ("http", "https")
_CHUNK = 64 * 1024
# Of an error answer's body, this much is read and quoted in the error.
_SNIPPET_BYTES = 1024
_SNIPPET_CHARS = 200


class OutsideServiceError(OutsideError):
    """The service refused the call or answered something unusable; the same
    call will fail again. status is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class OutsideServiceUnavailable(TransientError):
    """The service did not answer in time, could not be reached, or asked us
    to come back later (retry_after seconds, when it said)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, retry_after=retry_after)
        self.status = status


@dataclass(frozen=True)
class Response:
    """A successful (2xx) answer. url is where it finally came from, after
    redirects, query included: quote it with safe_url."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes = b""

    @property
    def content_type(self) -> str:
        """The media type alone, lower case: "image/png"."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def length(self) -> int | None:
        """The size the service declared (a HEAD answer has no body to count)."""
        declared = self.headers.get("Content-Length", "").strip()
        return int(declared) if declared.isdigit() else None

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except (ValueError, RecursionError):
            raise OutsideServiceError(
                f"{safe_url(self.url)} answered something that is not JSON",
                status=self.status,
            ) from None


def get_json(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Any:
    """GET url and return its JSON body, parsed."""
    headers = {"Accept": "application/json", **(headers or {})}
    return request(
        "GET", url, params=params, headers=headers, timeout=timeout, max_bytes=max_bytes
    ).json()


def get_bytes(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Response:
    """GET url; the body is in .content, its type in .content_type."""
    return request(
        "GET", url, params=params, headers=headers, timeout=timeout, max_bytes=max_bytes
    )


def head(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Response:
    """HEAD url: what a GET would bring (.content_type, .length) without
    fetching it."""
    return request(
        "HEAD", url, params=params, headers=headers, timeout=timeout, max_bytes=0
    )


def post(
    url: str,
    *,
    data: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Response:
    """POST data to url. With max_bytes=0 the answer's body is not read (for
    callers that only care whether the service took it)."""
    return request(
        "POST", url, data=data, headers=headers, timeout=timeout, max_bytes=max_bytes
    )


def request(
    method: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    data: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Response:
    """One call under the rules above; every failure is an OutsideError.
    timeout is the whole call's budget in seconds; max_bytes=0 leaves the
    body unread."""
    started = time.monotonic()
    shown = safe_url(url)
    try:
        answer = _call(method, url, params, data, headers, timeout, max_bytes)
    except OutsideError as exc:
        logger.info(
            "%s %s failed after %.2fs: %s",
            method,
            shown,
            time.monotonic() - started,
            exc,
        )
        raise
    logger.debug(
        "%s %s answered %s in %.2fs (%d bytes)",
        method,
        safe_url(answer.url),
        answer.status,
        time.monotonic() - started,
        len(answer.content),
    )
    return answer


def safe_url(url: str) -> str:
    """url without credentials, query or fragment: fit for logs and errors."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "(an unreadable address)"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _call(method, url, params, data, headers, timeout, max_bytes) -> Response:
    shown = safe_url(url)
    deadline = _Deadline(timeout)
    try:
        with deadline, _session() as session:
            response = _follow(session, method, url, params, data, headers, deadline)
            with response:
                shown = safe_url(response.url)
                _check_status(response, shown)
                content = _read(response, max_bytes, shown) if max_bytes else b""
                answer = Response(
                    url=response.url,
                    status=response.status_code,
                    headers=response.headers,
                    content=content,
                )
    except requests.RequestException as exc:
        if deadline.expired or isinstance(exc, requests.Timeout):
            raise _late(shown, timeout) from None
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            raise OutsideServiceError(
                f"{shown}: its answer could not be decoded"
            ) from None
        if isinstance(exc, ValueError):
            # InvalidURL, InvalidSchema, InvalidHeader: this call can never work.
            raise OutsideServiceError(f"{shown}: {type(exc).__name__}") from None
        raise OutsideServiceUnavailable(f"{shown}: {_reason(exc)}") from None
    except (OSError, HTTPException, urllib3.exceptions.HTTPError) as exc:
        if deadline.expired:
            raise _late(shown, timeout) from None
        raise OutsideServiceUnavailable(f"{shown}: {_reason(exc)}") from None
    # Cut at the deadline, an answer without a declared length reads as
    # complete when it is not.
    if deadline.expired:
        raise _late(shown, timeout)
    return answer


def _late(shown: str, timeout: float) -> OutsideServiceUnavailable:
    return OutsideServiceUnavailable(f"{shown}: no full answer within {timeout:g}s")


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if host is None or parts.scheme.lower() not in SCHEMES:
        raise OutsideServiceError(
            f"{safe_url(url)}: only http and https addresses are called"
        )


def _follow(session, method, url, params, data, headers, deadline):
    """Send the request and follow its redirects by hand, checking each
    address before anything goes to it."""
    headers = CaseInsensitiveDict(headers or {})
    for _ in range(MAX_REDIRECTS + 1):
        _check_scheme(url)
        wait = deadline.remaining()
        response = session.request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            timeout=(wait, wait),
            stream=True,
            allow_redirects=False,
        )
        target = session.get_redirect_target(response)
        if target is None:
            return response
        response.close()
        target = urljoin(response.url, target)
        # The query sent is part of response.url; the new address has its own.
        params = None
        status = response.status_code
        if (status == 303 and method != "HEAD") or (
            status in (301, 302) and method == "POST"
        ):
            method, data = "GET", None
            headers.pop("Content-Type", None)
        if session.should_strip_auth(response.url, target):
            headers.pop("Authorization", None)
        url = target
    raise OutsideServiceError(f"{safe_url(url)}: more than {MAX_REDIRECTS} redirects")


def _check_status(response: requests.Response, shown: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"{shown} answered {status}"
    snippet = _snippet(response)
    if snippet:
        message = f"{message}: {snippet}"
    if status in (408, 429) or status >= 500:
        raise OutsideServiceUnavailable(
            message,
            status=status,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    raise OutsideServiceError(message, status=status)


def _snippet(response: requests.Response) -> str:
    """The start of an error answer's body, on one line; whatever arrives
    before the deadline, if anything."""
    try:
        raw = response.raw.read(_SNIPPET_BYTES, decode_content=True)
    except Exception:
        return ""
    text = " ".join(raw.decode("utf-8", "replace").split())
    return text[:_SNIPPET_CHARS]


def _read(response: requests.Response, max_bytes: int, shown: str) -> bytes:
    too_large = f"{shown}: the answer is larger than {max_bytes} bytes"
    declared = response.headers.get("Content-Length", "").strip()
    encoded = response.headers.get("Content-Encoding", "identity") != "identity"
    if declared.isdigit() and int(declared) > max_bytes and not encoded:
        raise OutsideServiceError(too_large, status=response.status_code)
    chunks, size = [], 0
    for chunk in response.iter_content(min(_CHUNK, max_bytes + 1)):
        size += len(chunk)
        if size > max_bytes:
            raise OutsideServiceError(too_large, status=response.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _reason(exc: BaseException) -> str:
    """Why a connection failed, without the address: requests' own messages
    quote the whole URL, query and API key included."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror.lower()
        pending.extend(
            cause
            for cause in (
                *current.args,
                getattr(current, "reason", None),
                current.__cause__,
                current.__context__,
            )
            if isinstance(cause, BaseException)
        )
    return f"connection failed ({type(exc).__name__})"


class _Deadline:
    """One call's time budget. When it runs out, every socket the call
    opened is shut down, which wakes a read blocked on it at once."""

    def __init__(self, seconds: float):
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _current.deadline = None

    def remaining(self) -> float:
        return max(self.ends - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _cut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _cut(sock)


def _cut(sock: socket.socket) -> None:
    # shutdown, not close: closing from another thread could free the file
    # descriptor while the reader still uses it.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


# Connections are opened in the calling thread, so the call's deadline is
# found here rather than threaded through requests and urllib3.
_current = threading.local()


class _Watched:
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        deadline = getattr(_current, "deadline", None)
        if deadline is not None:
            deadline.watch(sock)
        return sock


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        # A SOCKS manager has pools of its own kind; leave those be.
        if isinstance(manager, urllib3.ProxyManager):
            manager.pool_classes_by_scheme = _POOLS
        return manager


def _session() -> requests.Session:
    """A session for one call: its connections close with it, so nothing
    outlives the call's deadline."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = _Adapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
