"""POST /hook, the front door for GitHub, and GET /plugin-help."""

import json
import logging
import re

import orjson
from django.conf import settings
from django.db import DatabaseError, DataError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from hook import hmac_secrets, refusals
from hook.events import repo_of
from hook.plugin_help import plugin_help_document
from hook.services import delivery_record

logger = logging.getLogger(__name__)


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain")


def _read_body(request, limit: int) -> bytes | None:
    """The body, or None if it is larger than limit (chunked bodies too)."""
    length = request.META.get("CONTENT_LENGTH")
    if length and length.isdigit() and int(length) > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


# GitHub's payloads nest a dozen levels; far deeper is an attack on the
# parser or on whatever walks the payload later.
MAX_JSON_DEPTH = 100
_TOO_DEEP = object()


def _parse(body: bytes):
    """The JSON value of body, None if it is not JSON, or _TOO_DEEP."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson reads only UTF-8 without a BOM and refuses what json lets
        # through (NaN, infinities, lone surrogates) or nests past 1024
        # levels: json decides those, so the answers stay json's. (It reads
        # integers past 64 bits as floats; only strings are taken from this
        # value, and what is stored is the body itself.)
        return _parse_slowly(body)
    return _within_depth(body, payload)


def _parse_slowly(body: bytes):
    try:
        payload = json.loads(body)
    except RecursionError:
        return _TOO_DEEP
    except ValueError:
        return None
    return _within_depth(body, payload)


def _within_depth(body: bytes, payload):
    # Nothing nests deeper than the body has brackets: counting them is a
    # scan in C, where walking the parsed value costs more than parsing it.
    # Most webhooks (a comment's has some 80) need no walk at all.
    if body.count(b"{") + body.count(b"[") <= MAX_JSON_DEPTH:
        return payload
    return _TOO_DEEP if _deeper_than(payload, MAX_JSON_DEPTH) else payload


# A \u0000 escape (not an escaped backslash followed by "u0000").
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _holds_nul(body: bytes, payload) -> bool:
    """Whether some string in the payload holds a NUL character. PostgreSQL
    stores none in text or jsonb: the body itself could be kept as text, but
    nothing read from it could be written anywhere later."""
    if json.detect_encoding(body) != "utf-8":
        body = json.dumps(payload).encode()
    return b"\\u0000" in body and _NUL_ESCAPE.search(body) is not None


def _deeper_than(value, limit: int) -> bool:
    # Iterative, so checking depth cannot itself overflow the stack.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend(
            (child, depth + 1) for child in children if isinstance(child, (dict, list))
        )
    return False


@csrf_exempt
def webhook(request):
    """Verify, store, acknowledge. Plugins run later, on a worker."""
    if request.method != "POST":
        response = _text(405, "405 Method not allowed")
        response["Allow"] = "POST"
        return response
    event = request.headers.get("X-GitHub-Event", "")
    guid = request.headers.get("X-GitHub-Delivery", "")
    if not event:
        return _text(400, "400 Bad Request: Missing X-GitHub-Event Header")
    if not guid:
        return _text(400, "400 Bad Request: Missing X-GitHub-Delivery Header")
    if len(guid) > 100 or len(event) > 64:
        return _text(
            400, "400 Bad Request: X-GitHub-Delivery or X-GitHub-Event too long"
        )
    body = _read_body(request, settings.PROW_HOOK_MAX_BODY_BYTES)
    if body is None:
        return _text(413, "413 Payload Too Large: webhook bodies are capped at 25 MB")
    try:
        secrets = hmac_secrets.secrets_from(settings.PROW_HMAC_SECRET_FILE)
    except hmac_secrets.SecretsUnavailable as exc:
        logger.error("webhook refused: %s", exc)
        refusals.record(refusals.NO_SECRET)
        return _text(403, "403 Forbidden: no webhook secret is configured")
    # Every token is tried over the raw bytes before anything is parsed, so
    # an unsigned body costs one HMAC per token, never a JSON parse.
    signers, reason = hmac_secrets.signed_by(
        body, request.headers, secrets.every_token()
    )
    if signers:
        payload = _parse(body)
        if payload is _TOO_DEEP:
            return _text(400, "400 Bad Request: the JSON is nested too deeply")
        org, repo = repo_of(payload) if isinstance(payload, dict) else ("", "")
        # A token signs only its own org's or repository's webhooks.
        if not signers.intersection(secrets.candidates(org, repo)):
            signers, reason = frozenset(), "signature does not match"
    if not signers:
        logger.warning("webhook %s refused: %s", guid, reason)
        refusals.record(refusals.BAD_SIGNATURE)
        return _text(403, f"403 Forbidden: Invalid X-Hub-Signature-256 - {reason}")
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type != "application/json":
        refusals.record(refusals.CONTENT_TYPE)
        return _text(
            400,
            "400 Bad Request: Hook only accepts content-type: application/json - "
            "please reconfigure this hook on GitHub",
        )
    if not isinstance(payload, dict):
        return _text(400, "400 Bad Request: the body is not a JSON object")
    if _holds_nul(body, payload):
        return _text(400, "400 Bad Request: the payload cannot be stored")
    try:
        delivery_record(guid=guid, event=event, payload=payload, body=body)
    except DataError:
        # Valid JSON the database cannot hold, such as a \u0000 in a string.
        return _text(400, "400 Bad Request: the payload cannot be stored")
    except DatabaseError as exc:
        # GitHub marks the delivery failed; it can be redelivered once the
        # database is back.
        logger.error("webhook %s not stored, database unavailable: %s", guid, exc)
        return _text(503, "503 Service Unavailable: the webhook could not be stored")
    return _text(200, "Event received. Have a nice day.")


@require_GET
def plugin_help(request):
    return JsonResponse(
        plugin_help_document(), json_dumps_params={"ensure_ascii": False}
    )


# Where hook.urls puts the webhook (tests check the two agree).
WEBHOOK_PATH = "/hook"


class WebhookShortcut:
    """Hands POST /hook straight to the view, past the middleware below it.

    That middleware serves people in browsers: static files, sessions and
    logins, CSRF, messages, htmx, Deck's access checks. A webhook is
    authenticated by its HMAC alone and touches none of it, yet paid for all
    of it, and for URL resolution, on every delivery. What every request
    needs (security headers, the host check, metrics) sits above this.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != WEBHOOK_PATH:
            return self.get_response(request)
        response = webhook(request)
        # What CommonMiddleware and XFrameOptionsMiddleware would have added.
        if "Content-Length" not in response:
            response["Content-Length"] = str(len(response.content))
        if "X-Frame-Options" not in response:
            response["X-Frame-Options"] = settings.X_FRAME_OPTIONS.upper()
        return response
