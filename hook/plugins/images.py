"""Pictures and jokes from services outside this system, for the fun plugins
(cat, dog, pony, yuks).

These plugins must never fail loudly. A service that is down, slow, or
answers something unusable gets a polite reply, never an exception out of
the handler and never a retry of the whole delivery (that would post the
answer to every other plugin's retry too). A random image GitHub could not
show (too large, not an image, an address that is not http or https) is
asked for again a couple of times, within a small time budget, since the
next random answer may well be fine; a service that did not answer is not
asked again.
"""

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from prow import outside
from prow.errors import OutsideError

logger = logging.getLogger(__name__)

# GitHub does not show larger images in comments; the original's limit.
MAX_IMAGE_BYTES = 10_000_000
# Per call; read at call time, so that a deployment (or a test) may shorten it.
TIMEOUT = outside.DEFAULT_TIMEOUT
# All tries of one command together: a worker is not held for a picture.
BUDGET_SECONDS = 15.0
# Characters left as they are in an image address; everything else (spaces,
# brackets, parentheses, quotes, angle brackets, backticks, backslashes) is
# percent-encoded, so an address cannot close the Markdown around it or
# open HTML.
_URL_SAFE = "/:?#&=%+-._~!$*,;@"
# Host names and IP addresses, as hostname gives them: lower case, an IPv6
# address without its brackets.
_HOST = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+")
# A joke keeps these as they are; any other character becomes a numeric
# character reference, so no joke can format, link or mention anything.
_PLAIN = re.compile(r"[A-Za-z0-9?'!., ]")


class Unusable(Exception):
    """An answer that cannot go in a comment; another try may do better."""


def image_url(value: Any) -> str:
    """value as an address safe to put in Markdown; Unusable when it is not
    an http or https address."""
    if not isinstance(value, str) or not value.strip():
        raise Unusable("no image address in the answer")
    value = value.strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise Unusable("control characters in the image address")
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise Unusable("an unreadable image address") from None
    if parts.scheme.lower() not in outside.SCHEMES or not host:
        raise Unusable(f"not an http or https address: {outside.safe_url(value)}")
    if parts.username is not None or not _HOST.fullmatch(host):
        raise Unusable(f"an odd host in the image address: {outside.safe_url(value)}")
    # The host part was checked above; the rest is encoded.
    encoded = parts._replace(
        scheme=parts.scheme.lower(),
        path=quote(parts.path, safe=_URL_SAFE),
        query=quote(parts.query, safe=_URL_SAFE),
        fragment=quote(parts.fragment, safe=_URL_SAFE),
    )
    return urlunsplit(encoded)


def check_image(url: str) -> None:
    """Ask the image's host (HEAD) whether GitHub could show it: an image,
    not over MAX_IMAGE_BYTES. Unusable when not, or when the host will not
    say."""
    try:
        answer = outside.head(url, timeout=TIMEOUT)
    except OutsideError as exc:
        raise Unusable(f"could not check the image: {exc}") from None
    kind = answer.content_type
    if kind and not kind.startswith("image/"):
        raise Unusable(f"not an image ({kind}): {outside.safe_url(url)}")
    if answer.length is not None and answer.length > MAX_IMAGE_BYTES:
        raise Unusable(f"too large ({answer.length} bytes): {outside.safe_url(url)}")


def get_json(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    return outside.get_json(url, params=params, headers=headers, timeout=TIMEOUT)


def deadline() -> float:
    """When a command's tries must stop (a time.monotonic() value)."""
    return time.monotonic() + BUDGET_SECONDS


def first_usable(
    what: str, fetch: Callable[[], str], tries: int, ends: float | None = None
) -> str | None:
    """fetch's first usable answer within tries and the time budget (until
    ends, when given); None when there was none. fetch raises Unusable for
    an answer worth asking again, an OutsideError when the call failed."""
    ends = deadline() if ends is None else ends
    for attempt in range(1, tries + 1):
        if time.monotonic() >= ends:
            break
        try:
            return fetch()
        except outside.OutsideServiceUnavailable as exc:
            # Down, slow or asking us to come back later: asking again at
            # once would only wait out the same deadline.
            logger.info("%s: the service is unavailable: %s", what, exc)
            return None
        except (Unusable, OutsideError) as exc:
            logger.info("%s: try %d of %d unusable: %s", what, attempt, tries, exc)
        except (LookupError, TypeError, ValueError, AttributeError) as exc:
            # An answer of an unexpected shape.
            logger.info("%s: try %d of %d: odd answer: %r", what, attempt, tries, exc)
    return None


def field(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]...; Unusable when the answer has no such
    field."""
    for key in path:
        try:
            data = data[key]
        except (LookupError, TypeError):
            raise Unusable(f"the answer has no {'.'.join(map(str, path))}") from None
    return data


def escape_markdown(text: str) -> str:
    """text as inert Markdown: letters, digits, spaces and plain punctuation
    stay, everything else becomes a numeric character reference."""
    return "".join(ch if _PLAIN.fullmatch(ch) else f"&#{ord(ch)};" for ch in text)
