"""Plank throughput against the Kubernetes double.

Creates N triggered ProwJobs in PostgreSQL, then runs plank's sync_job on
each (pod created in the Kubernetes double, job pending), marks every pod
succeeded, and syncs again (log kept, job success). Prints jobs per second
for both passes and the database queries per job, measured over the first
1,000 jobs and over all of them: a constant number means nothing scans the
job table as it grows.

    .venv/bin/python -m bench.plank --jobs 10000

Uses its own database (prow_bench_plank, created afresh) and Redis db 5.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import use_own_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="prow-bench-plank-"))
    # Redis db 5: the hook benchmark empties db 13 while it runs.
    use_own_database("prow_bench_plank", 5, workdir)

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()

    from jobs.executors.kubernetes import forget_connections
    from jobs.models import ProwJob
    from jobs.plank import sync_job
    from jobs.services import presubmit_fields, prowjob_create
    from prow.config.models import ConfigVersion
    from prow.config.schema import Presubmit, ProwConfig
    from prow.config.services import config_version_create
    from tests.fakes.kube import FakeKube

    kube = FakeKube(namespaces=("test-pods",), schema_version=None).start()
    settings.KUBECONFIG = str(kube.write_kubeconfig(workdir / "kubeconfig"))
    settings.MEDIA_ROOT = workdir / "media"
    forget_connections()
    config_version_create(
        config_yaml="pod_namespace: test-pods\n",
        plugins_yaml="",
        source=ConfigVersion.Source.COMMAND,
    )

    print(f"creating {args.jobs} triggered ProwJobs ...", flush=True)
    config = ProwConfig(pod_namespace="test-pods")
    ids = []
    for n in range(args.jobs):
        job = Presubmit(
            name=f"job-{n % 200}",
            spec={"containers": [{"image": "golang", "command": ["go", "test"]}]},
        )
        refs = {
            "org": f"org-{n % 50}",
            "repo": "repo",
            "base_ref": "main",
            "base_sha": "b" * 40,
            "pulls": [{"number": n + 1, "author": "dev", "sha": f"{n:040x}"}],
        }
        ids.append(prowjob_create(fields=presubmit_fields(job, refs, config)).pk)

    counter = {"queries": 0}

    def count(execute, sql, params, many, context):
        counter["queries"] += 1
        return execute(sql, params, many, context)

    def run_pass(label: str) -> None:
        sample_queries = 0
        counter["queries"] = 0
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            for index, job_id in enumerate(ids):
                sync_job(job_id)
                if index + 1 == args.sample:
                    sample_queries = counter["queries"]
        elapsed = time.perf_counter() - started
        print(
            f"{label:<28} {len(ids):>6} jobs  {len(ids) / elapsed:8.1f} jobs/s  "
            f"queries/job: first {args.sample}: {sample_queries / args.sample:.2f}, "
            f"all {len(ids)}: {counter['queries'] / len(ids):.2f}",
            flush=True,
        )

    run_pass("triggered -> pending (pod)")
    assert ProwJob.objects.filter(state="pending").count() == len(ids)
    assert len(kube.pods("test-pods")) == len(ids)
    for pod in kube.pods("test-pods"):
        kube.set_log("test-pods", pod["metadata"]["name"], "test", "ok\n")
        kube.succeed("test-pods", pod["metadata"]["name"])
    run_pass("pending -> success (logs)")
    assert ProwJob.objects.filter(state="success").count() == len(ids)
    kube.stop()
    print("(one process, 2 cores shared with PostgreSQL, Redis and the double)")


if __name__ == "__main__":
    main()
