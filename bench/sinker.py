"""Sinker over a million finished jobs, in bounded memory.

Fills its own PostgreSQL database with N completed ProwJobs (200 job names,
a fifth of them periodics in the config, start times spread over the last
40 days), a stored log for every 100th job, and as many webhook deliveries
as --deliveries says; then runs sinker's sweep, first as a dry run, then
for real. Prints the time, what went, and the process's peak RSS before
and after each pass: a sweep that loaded the table would show it there.

    .venv/bin/python -m bench.sinker --jobs 1000000

Uses its own database (prow_bench_sinker, created for the run and dropped
after it) and Redis db 8 (nothing is queued; the setting only keeps Celery
off the default broker).
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_own_database, use_own_database  # noqa: E402

NAMES = 200
PERIODIC_EVERY = 5  # job-000, job-005, ...: 40 periodics
SPREAD_DAYS = 40
# Periodics in the config whose every run is older than max_prowjob_age:
# only their newest run may survive.
STALE_PERIODICS = 10
AGE = f"now() - interval '{SPREAD_DAYS} days' * (%(count)s - i) / %(count)s"
STALE_AGE = "now() - interval '40 days' + interval '1 hour' * i"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def periodics_yaml() -> str:
    names = [f"job-{n:03d}" for n in range(0, NAMES, PERIODIC_EVERY)]
    names += [f"stale-{n}" for n in range(STALE_PERIODICS)]
    entries = "".join(
        f"- name: {name}\n  interval: 1h\n"
        "  spec: {containers: [{image: golang, command: [make]}]}\n"
        for name in names
    )
    return f"periodics:\n{entries}"


def insert_jobs(count: int) -> None:
    """INSERT ... SELECT generate_series: the rows never pass through Python.

    Every column gets its model default unless set here, so the statement
    follows the model as it changes.
    """
    from django.db import connection

    from jobs.models import ProwJob

    # Ids grow with time, as they do in production: i = count is the newest
    # job, i = 1 started SPREAD_DAYS ago.
    computed = {
        "name": "gen_random_uuid()",
        "job": f"'job-' || lpad(mod(i - 1, {NAMES})::text, 3, '0')",
        "type": f"CASE WHEN mod(mod(i - 1, {NAMES}), {PERIODIC_EVERY}) = 0 "
        "THEN 'periodic' ELSE 'presubmit' END",
        "state": "CASE WHEN mod(i, 10) = 0 THEN 'failure' ELSE 'success' END",
        "build_id": "i::text",
        "start_time": AGE,
        "pending_time": AGE,
        "completion_time": f"{AGE} + interval '10 minutes'",
    }
    columns, values = _columns(ProwJob, computed)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ProwJob._meta.db_table} ({columns}) "
            f"SELECT {values} FROM generate_series(1, %(count)s) AS i",
            {"count": count},
        )
        # Periodics whose runs are all old (32-40 days): their newest stays.
        stale = dict(
            computed,
            job=f"'stale-' || mod(i, {STALE_PERIODICS})",
            type="'periodic'",
            start_time=STALE_AGE,
            pending_time=STALE_AGE,
            completion_time=f"{STALE_AGE} + interval '10 minutes'",
        )
        columns, values = _columns(ProwJob, stale)
        cursor.execute(
            f"INSERT INTO {ProwJob._meta.db_table} ({columns}) "
            f"SELECT {values} FROM generate_series(1, %(n)s) AS i",
            {"n": STALE_PERIODICS * 20},
        )


def _columns(model, computed: dict[str, str]) -> tuple[str, str]:
    from django.db import connection

    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.name in computed:
            values.append(computed[field.name])
        elif field.null and not field.has_default():
            values.append("NULL")
        else:
            values.append(_literal(field))
    return ", ".join(names), ", ".join(values)


def _literal(field) -> str:
    from django.db.models import JSONField

    default = field.get_default()
    if isinstance(field, JSONField):
        text = json.dumps(default).replace("'", "''")
        return f"'{text}'::jsonb"
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, int):
        return str(default)
    if default is None:
        return "NULL"
    text = str(default).replace("'", "''")
    return f"'{text}'"


def store_logs(every: int) -> int:
    """A build log in storage for every `every`-th job, as plank keeps them."""
    from django.conf import settings
    from django.db import connection

    from jobs.models import JobArtifact, ProwJob

    media = Path(settings.MEDIA_ROOT)
    rows = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, name FROM {ProwJob._meta.db_table} WHERE mod(id, %s) = 0",
            [every],
        )
        for job_id, name in cursor:
            path = f"prowjobs/{name}/build-log.txt"
            (media / path).parent.mkdir(parents=True, exist_ok=True)
            (media / path).write_text("PASS\n")
            rows.append(JobArtifact(job_id=job_id, name="build-log.txt", file=path))
    JobArtifact.objects.bulk_create(rows, batch_size=5_000)
    return len(rows)


def insert_deliveries(count: int) -> None:
    from django.db import connection

    from hook.models import WebhookDelivery

    computed = {
        "guid": "gen_random_uuid()::text",
        "event": "'issue_comment'",
        "status": "CASE WHEN mod(i, 20) = 0 THEN 'failed' ELSE 'done' END",
        "payload": '\'{"action": "created"}\'::jsonb',
        "received_at": "now() - interval '60 days' * (%(count)s - i) / %(count)s",
        "finished_at": "now() - interval '60 days' * (%(count)s - i) / %(count)s",
    }
    columns, values = _columns(WebhookDelivery, computed)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WebhookDelivery._meta.db_table} ({columns}) "
            f"SELECT {values} FROM generate_series(1, %(count)s) AS i",
            {"count": count},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="prow-bench-sinker-"))
    use_own_database("prow_bench_sinker", 8, workdir)
    # No cluster: sinker looks at the local executor's (empty) pod folder.
    os.environ["KUBECONFIG"] = ""

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from hook.models import WebhookDelivery
    from jobs import sinker
    from jobs.models import JobArtifact, ProwJob
    from prow.config.models import ConfigVersion
    from prow.config.services import config_version_create

    config_version_create(
        config_yaml=periodics_yaml(), plugins_yaml="", source=ConfigVersion.Source.API
    )

    started = time.perf_counter()
    insert_jobs(args.jobs)
    logs = store_logs(args.log_every)
    insert_deliveries(args.deliveries)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    total = ProwJob.objects.count()
    print(
        f"filled: {total:,} completed ProwJobs, {logs:,} stored logs, "
        f"{args.deliveries:,} webhook deliveries in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )

    queries = {"n": 0, "seconds": 0.0}

    def count(execute, sql, params, many, context):
        queries["n"] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries["seconds"] += time.perf_counter() - started

    # One clock for both passes and the checks, so the dry run's figures
    # are the sweep's and no job ages past the cutoff in between.
    now = timezone.now()
    batch = {"batch_size": args.batch_size} if args.batch_size else {}
    for dry_run in (True, False):
        label = "dry run" if dry_run else "sweep"
        before = peak_rss_mib()
        queries.update(n=0, seconds=0.0)
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            report = sinker.sweep(now=now, dry_run=dry_run, **batch)
        elapsed = time.perf_counter() - started
        print(
            f"{label:<8} {elapsed:7.1f} s  {report.summary()}\n"
            f"         peak RSS before {before:.1f} MiB, after {peak_rss_mib():.1f}"
            f" MiB; {queries['n']:,} queries, {queries['seconds']:.1f} s of them"
            " waiting for PostgreSQL",
            flush=True,
        )

    old_left = ProwJob.objects.filter(start_time__lt=now - timedelta(days=7))
    stale_left = old_left.filter(job__startswith="stale-").count()
    folders_left = sum(1 for _ in (workdir / "media" / "prowjobs").iterdir())
    print(
        f"left: {ProwJob.objects.count():,} jobs ({old_left.count()} older than a "
        f"week: the newest run of each of {stale_left} stale periodics), "
        f"{JobArtifact.objects.count():,} stored logs in {folders_left:,} folders, "
        f"{WebhookDelivery.objects.count():,} webhook deliveries"
    )
    assert old_left.count() == stale_left == STALE_PERIODICS
    assert folders_left == JobArtifact.objects.count()
    connection.close()
    drop_own_database()
    shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
