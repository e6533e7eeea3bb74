"""The project's URLs plus the two views /hook is measured against.

/bench/bare reads the body and answers: the cost of Django and gunicorn
alone. /bench/floor does the least any durable acknowledgement must: check
the HMAC over the raw body, then store the body in one autocommit INSERT.
Neither is part of the product; the floor's table is created by the
benchmark itself (bench/floor.py).
"""

import functools
import hashlib
import hmac

import psycopg
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench import floor as floor_table
from prow.urls import urlpatterns as base


@functools.cache
def _floor_secret(path: str) -> bytes:
    # The benchmark writes one plain secret and never changes it: read once,
    # so the floor pays no file access per request.
    if not path:
        return b""
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip().encode()


@csrf_exempt
@require_POST
def bare(request):
    # Read the body as /hook does, so the difference between the two is the
    # webhook's own work (JSON, HMAC, database, broker), not the request I/O.
    request.body  # noqa: B018
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@require_POST
def floor(request):
    body = request.body
    secret = _floor_secret(settings.PROW_HMAC_SECRET_FILE)
    given = request.headers.get("X-Hub-Signature-256", "").encode()
    expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    if not secret or not hmac.compare_digest(expected, given):
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    # One statement and nothing else: Django's cursor would first run its
    # per-request health check (SELECT 1) and quote the body into the SQL
    # text, so the statement goes to psycopg with the body bound by the
    # server. Django runs in autocommit: the INSERT is its own transaction,
    # durable (synchronous commit) when execute returns.
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            floor_table.INSERT, [request.headers.get("X-GitHub-Delivery", ""), body]
        )
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    *base,
    path("bench/bare", bare, name="bench-bare"),
    path("bench/floor", floor, name="bench-floor"),
]
