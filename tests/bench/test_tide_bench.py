"""The Tide benchmark, run whole at a tiny size: seeding, the measured
syncs, gunicorn and a worker merging on status webhooks, and the verdicts."""

import os
import subprocess
import sys

from bench import tide as bench
from tests.conftest import ROOT


def test_the_benchmark_runs_at_a_tiny_size_and_passes():
    # A database of this run's own, beside the suite's: the benchmark
    # drops and creates it.
    base = os.environ["DATABASE_URL"].rsplit("/", 1)
    env = dict(os.environ, BENCH_DATABASE_URL=f"{base[0]}/{base[1]}_bench_tide")
    args = ["--pulls", "20", "--repos", "2", "--merges", "3", "--changes", "2"]
    args += ["--ready", "2", "--interval", "0", "--warmup", "1", "--timeout", "30"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.tide", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    # Two pools at the first sync, each with one pull request to merge.
    assert "first sync: 2 pools, 20 pull requests decided" in out
    assert "PASS  idle sync: 1 and 1 GraphQL requests for 1 org" in out
    assert "PASS  3/3 merged, 0 merged twice, 0 webhooks refused" in out
    assert "PASS  no retests were needed: 0 ProwJobs created" in out
    assert "FAIL" not in out


def test_the_percentile_is_the_nearest_rank():
    ordered = [float(n) for n in range(1, 101)]
    assert bench.percentile(ordered, 50) == 50.0
    assert bench.percentile(ordered, 99) == 99.0
    assert bench.percentile([3.0], 99) == 3.0


def test_the_status_webhook_names_the_pull_request_head_and_repository():
    pull = bench.Pull("repo-01", 7, "ab" * 20)
    payload = bench.json.loads(bench.status_webhook(pull, 5))
    assert (payload["sha"], payload["context"], payload["state"]) == (
        "ab" * 20,
        bench.SCAN,
        "success",
    )
    assert payload["repository"]["full_name"] == f"{bench.ORG}/repo-01"
    assert payload["repository"]["owner"]["login"] == bench.ORG
