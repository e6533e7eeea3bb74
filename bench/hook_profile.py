"""Where one /hook request's CPU goes, beside /bench/floor and /bench/bare.

    .venv/bin/python -m bench.hook_profile [--requests 3000] [--top 25]

Calls Django's WSGI handler in this process (no gunicorn, no sockets), one
request after another, with the benchmark's settings, payload and secret;
prints the CPU milliseconds per request of each target and, with --top, the
functions /hook spends its time in (cProfile, cumulative). The database is
PostgreSQL, as in bench.hook; no Celery worker runs, and the broker is
Redis db 13 (emptied before and after).
"""

import argparse
import cProfile
import hashlib
import hmac
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "webhooks" / "issue_comment.created.json"
TARGETS = ("/bench/bare", "/bench/floor", "/hook")


def _environ(path: str, body: bytes, signature: str, guid: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_GITHUB_EVENT": "issue_comment",
        "HTTP_X_GITHUB_DELIVERY": guid,
        "HTTP_X_HUB_SIGNATURE_256": signature,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hook_profile")
    parser.add_argument("--requests", type=int, default=500, help="per round")
    parser.add_argument(
        "--rounds",
        type=int,
        default=6,
        help="rounds of every target in turn, so that other load on the "
        "machine falls on all of them alike",
    )
    parser.add_argument("--top", type=int, default=0, help="profile /hook too")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/prow_bench",
    )
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args(argv)

    from bench import floor
    from bench.hook import _create_floor_table, _ensure_database, _redis

    _ensure_database(args.database_url)
    body = FIXTURE.read_bytes()
    secret = uuid.uuid4().hex
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    run_id = "profile-" + uuid.uuid4().hex[:12]
    tmp = tempfile.mkdtemp(prefix="prow-profile-")
    secret_path = Path(tmp) / "hmac"
    secret_path.write_text(secret + "\n")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=args.database_url,
        CELERY_BROKER_URL=args.broker_url,
        PROW_HMAC_SECRET_FILE=str(secret_path),
        PROW_DATA_DIR=str(Path(tmp) / "data"),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    broker = _redis(args.broker_url)
    broker.flushdb()

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    _create_floor_table(args.database_url)

    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from hook.dispatch import dispatcher
    from prow.config.startup import config_load_at_start

    config_load_at_start()
    handler = WSGIHandler()

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise SystemExit(f"unexpected answer {status}")

    def run(path: str, count: int, tag: str) -> float:
        environs = [
            _environ(path, body, signature, f"{run_id}-{tag}-{i}") for i in range(count)
        ]
        start = time.process_time()
        for environ in environs:
            response = handler(environ, start_response)
            b"".join(response)
            response.close()
        dispatcher.flush()
        return (time.process_time() - start) * 1000 / count

    print(
        f"{args.rounds} rounds of {args.requests} requests per target, one at "
        "a time, in this process; CPU ms per request, median of the rounds"
    )
    try:
        for path in TARGETS:
            run(path, 200, f"w{path}")  # warm caches and connections
        spent = {path: [] for path in TARGETS}
        for n in range(args.rounds):
            for path in TARGETS:
                spent[path].append(run(path, args.requests, f"{n}{path}"))
        for path in TARGETS:
            rounds = sorted(spent[path])
            print(
                f"{path:14} {statistics.median(rounds):.3f} "
                f"(min {rounds[0]:.3f}, max {rounds[-1]:.3f})"
            )
        if args.top:
            profile = cProfile.Profile()
            profile.enable()
            run("/hook", args.requests, "profiled")
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM hook_webhookdelivery WHERE guid LIKE %s", [run_id + "-%"]
            )
            cursor.execute(
                f"DELETE FROM {floor.TABLE} WHERE guid LIKE %s", [run_id + "-%"]
            )
        broker.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
