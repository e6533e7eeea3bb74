"""Tide against the GitHub double: what a sync costs, and how soon a pull
request merges once its last required context turns green.

    .venv/bin/python -m bench.tide [--pulls 1000] [--repos 50] [--merges 100]

Seeds one org of --repos repositories holding --pulls open pull requests,
most of them not mergeable yet, and measures, in this process:

- the first sync (everything read, a status written on every pull request),
  an idle second sync right after it, and an incremental sync after one
  pull request changed (a label added), --changes times;

then starts the real processes, gunicorn (/hook) and a Celery worker
(no beat, so no periodic sync), and for --merges pull requests that wait
only for their `security-scan` context: sets it green in the double, posts
the signed `status` webhook to /hook, and times until the merge call
reaches the double. See bench/README.md.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_own_database, use_own_database  # noqa: E402
from tests.fakes.github import GRAPHQL_PATHS, FakeGitHub  # noqa: E402
from tests.processes import (  # noqa: E402
    free_port,
    http_get,
    own_redis,
    running,
    wait_until,
)

ORG = "bench"
BRANCH = "main"
UNIT, SCAN = "unit", "security-scan"
LGTM, APPROVED, HOLD = "lgtm", "approved", "do-not-merge/hold"
STATUS_FIXTURE = ROOT / "tests" / "fixtures" / "webhooks" / "status.json"
# "A few dozen": 1,000 pull requests are ten search pages of 100.
FIRST_SYNC_READS_TARGET = 36
P50_TARGET, P99_TARGET = 5.0, 30.0
# The rest of the pull requests, in turn: not mergeable, each for its reason.
NOT_READY = ((), (LGTM,), (APPROVED,), (LGTM, APPROVED, HOLD))


def repo_name(index: int) -> str:
    return f"repo-{index:02d}"


def config_yaml(repos: int) -> str:
    lines = [
        "pod_namespace: test-pods",
        "tide:",
        # Beat is not running; a long period says no sync is expected of it.
        "  sync_period: 1h",
        "  queries:",
        f"  - orgs: [{ORG}]",
        f"    labels: [{LGTM}, {APPROVED}]",
        f"    missingLabels: [{HOLD}]",
        "  context_options:",
        "    from-branch-protection: true",
        "    skip-unknown-contexts: true",
        "presubmits:",
    ]
    for index in range(repos):
        lines += [
            f"  {ORG}/{repo_name(index)}:",
            f"  - name: {UNIT}",
            "    always_run: true",
            "    spec:",
            "      containers:",
            "      - image: golang",
        ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------- the double


@dataclass
class Seen:
    """A request as it reached the double, on this process's clock."""

    at: float
    method: str
    path: str
    scope: str = ""  # GraphQL: the repositories its searches name


class TimedGitHub(FakeGitHub):
    """The GitHub double, noting when requests arrive (the latency's end) and
    the CPU it spends answering them (which shares this process with the
    syncs measured in it)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen: list[Seen] = []
        self.cpu = 0.0
        self._timing = threading.Lock()

    def handle(self, method, target, headers, raw):
        arrived = time.monotonic()
        started = time.thread_time()
        path = target.split("?", 1)[0]
        scope = ""
        if method == "POST" and path in GRAPHQL_PATHS:
            try:
                variables = json.loads(raw).get("variables") or {}
            except ValueError:
                variables = {}
            scope = " ".join(
                str(value)
                for name, value in sorted(variables.items())
                if name.endswith("Query") and value
            )
        reply = super().handle(method, target, headers, raw)
        with self._timing:
            self.seen.append(Seen(arrived, method, path, scope))
            self.cpu += time.thread_time() - started
        return reply

    def tip(self, repo: str) -> str:
        with self._lock:
            return self._repo(ORG, repo).branches[BRANCH]


@dataclass
class Cost:
    """What one phase asked of GitHub."""

    graphql: int = 0
    points: int = 0
    reads: int = 0
    statuses: int = 0
    merges: int = 0
    other_writes: int = 0
    core_used: int = 0  # REST rate limit taken

    @property
    def writes(self) -> int:
        return self.statuses + self.merges + self.other_writes


class Meter:
    def __init__(self, fake: TimedGitHub):
        self.fake = fake
        self.start()

    def start(self) -> None:
        fake = self.fake
        with fake._lock:
            self.log_at = len(fake._log)
            self.graphql = fake.graphql_requests
            self.points = fake.graphql_cost
            self.core = fake.rate_limit_remaining

    def cost(self) -> Cost:
        fake = self.fake
        with fake._lock:
            requests = fake._log[self.log_at :]
            cost = Cost(
                graphql=fake.graphql_requests - self.graphql,
                points=fake.graphql_cost - self.points,
                core_used=self.core - fake.rate_limit_remaining,
            )
        for request in requests:
            if request.path in GRAPHQL_PATHS:
                continue
            if request.method == "GET":
                cost.reads += 1
            elif request.method == "POST" and "/statuses/" in request.path:
                cost.statuses += 1
            elif request.method == "PUT" and request.path.endswith("/merge"):
                cost.merges += 1
            else:
                cost.other_writes += 1
        return cost


# ----------------------------------------------------------------- seeding


@dataclass
class Pull:
    repo: str
    number: int
    head: str


@dataclass
class Plan:
    candidates: list[Pull] = field(default_factory=list)  # wait for the scan
    changes: list[Pull] = field(default_factory=list)  # lgtm, need approved
    ready: list[Pull] = field(default_factory=list)  # merge at the first sync
    others: list[Pull] = field(default_factory=list)  # warm-up targets


def green_unit(fake: TimedGitHub, pull: Pull) -> None:
    """The `unit` result at the branch's current tip, as the reporter writes
    it: what a retest after an earlier merge would have left."""
    tip = fake.tip(pull.repo)
    fake.set_status(
        ORG,
        pull.repo,
        pull.head,
        UNIT,
        "success",
        description=f"Job succeeded. BaseSHA:{tip}",
    )


def seed(fake: TimedGitHub, args) -> Plan:
    """The repositories and their pull requests. Each pull request has a
    green `unit` at the tip; the ones waiting for the scan have it pending;
    nothing was updated in the last hour, as in a quiet org."""
    fake.add_org(ORG)
    per_repo = [args.pulls // args.repos] * args.repos
    for index in range(args.pulls % args.repos):
        per_repo[index] += 1
    plan = Plan()
    slots = {index: iter(range(1, count + 1)) for index, count in enumerate(per_repo)}

    def take(index: int) -> Pull:
        repo = repo_name(index)
        number = next(slots[index])
        return Pull(repo, number, f"{index:08x}{number:032x}")

    # Round robin over the repositories, so consecutive merges touch
    # different pools, as unrelated pull requests do.
    plan.candidates = [take(k % args.repos) for k in range(args.merges)]
    plan.changes = [take(args.repos - 1 - k % args.repos) for k in range(args.changes)]
    plan.ready = [take(k) for k in range(min(args.ready, args.repos))]
    labels: dict[tuple[str, int], tuple[str, ...]] = {}
    for pull in plan.candidates + plan.ready:
        labels[(pull.repo, pull.number)] = (LGTM, APPROVED)
    for pull in plan.changes:
        labels[(pull.repo, pull.number)] = (LGTM,)
    waiting = {(pull.repo, pull.number) for pull in plan.candidates}
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    kind = 0
    for index, count in enumerate(per_repo):
        repo = repo_name(index)
        fake.add_repo(ORG, repo, default_branch=BRANCH, sha=f"{index:08x}{0:032x}")
        fake.protect_branch(ORG, repo, BRANCH, contexts=[SCAN])
        for number in range(1, count + 1):
            head = f"{index:08x}{number:032x}"
            pull = Pull(repo, number, head)
            given = labels.get((repo, number))
            if given is None:
                given = NOT_READY[kind % len(NOT_READY)]
                kind += 1
                plan.others.append(pull)
            created = fake.add_pull(
                ORG, repo, number, f"dev{number % 40}", head, labels=given
            )
            with fake._lock:
                created.created_at = created.updated_at = hour_ago
            green_unit(fake, pull)
            scan = "pending" if (repo, number) in waiting else "success"
            fake.set_status(ORG, repo, head, SCAN, scan, description="Scanning.")
    return plan


# ------------------------------------------------------------------ phases


@dataclass
class SyncRun:
    name: str
    cost: Cost
    seconds: float
    cpu: float  # this process: Tide and the double
    double_cpu: float
    report: object
    machine: float = 0.0  # CPU seconds the whole machine was busy


def measured_sync(fake: TimedGitHub, name: str, **kwargs) -> SyncRun:
    from tide import sync

    meter = Meter(fake)
    double_before = fake.cpu
    cpu_before, machine_before = _cpu(), _machine_cpu()
    started = time.perf_counter()
    report = sync.sync(**kwargs)
    seconds = time.perf_counter() - started
    return SyncRun(
        name,
        meter.cost(),
        seconds,
        _cpu() - cpu_before,
        fake.cpu - double_before,
        report,
        _machine_cpu() - machine_before,
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_cpu() -> float:
    """CPU seconds the whole machine has been busy: PostgreSQL works for
    the sync too, and anything else running slows it down."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]
    ticks = [int(value) for value in fields]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Merge:
    pull: Pull
    green: float  # the scan set to success in the double
    answered: float = 0.0  # /hook's 200
    read: float = 0.0  # Tide's read of the repository
    status: float = 0.0  # "In merge pool." on the head
    merged: float = 0.0  # the merge call arrived
    http_status: int = 0


def status_webhook(pull: Pull, delivery: int) -> bytes:
    payload = json.loads(STATUS_FIXTURE.read_text(encoding="utf-8"))
    payload.update(
        id=delivery,
        sha=pull.head,
        name=f"{ORG}/{pull.repo}",
        context=SCAN,
        state="success",
        description="Scan passed.",
        target_url=None,
    )
    repository = payload["repository"]
    repository.update(name=pull.repo, full_name=f"{ORG}/{pull.repo}")
    repository["owner"]["login"] = ORG
    payload["commit"]["sha"] = pull.head
    return json.dumps(payload).encode()


class Hook:
    """POSTs signed webhooks to gunicorn's /hook over one keep-alive
    connection, as GitHub's deliveries would arrive."""

    def __init__(self, port: int, secret: str):
        self.port = port
        self.secret = secret.encode()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, event: str, body: bytes) -> int:
        signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/bench",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": f"sha256={signature}",
        }
        for attempt in (1, 2):
            try:
                self.conn.request("POST", "/hook", body=body, headers=headers)
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (ConnectionError, http.client.HTTPException):
                # gunicorn closed an idle keep-alive connection.
                self.conn.close()
                if attempt == 2:
                    raise
        return 0

    def close(self) -> None:
        self.conn.close()


def merges_at(fake: TimedGitHub) -> dict[str, float]:
    """Merge path -> when its first merge call arrived."""
    with fake._timing:
        seen = list(fake.seen)
    found: dict[str, float] = {}
    for request in seen:
        if request.method == "PUT" and request.path.endswith("/merge"):
            found.setdefault(request.path, request.at)
    return found


def merge_path(pull: Pull) -> str:
    return f"/repos/{ORG}/{pull.repo}/pulls/{pull.number}/merge"


def run_merges(fake: TimedGitHub, hook: Hook, plan: Plan, args) -> list[Merge]:
    """Turn each candidate's scan green and deliver its webhook, one every
    --interval seconds (open loop; with 0, each after the previous merge)."""
    merges: list[Merge] = []
    last_in_repo: dict[str, Pull] = {}
    started = time.monotonic()
    for k, pull in enumerate(plan.candidates):
        due = started + k * args.interval
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        previous = last_in_repo.get(pull.repo)
        if previous is not None:
            # Its unit result must be at the tip the previous merge made.
            wait_until(
                lambda p=previous: merge_path(p) in merges_at(fake),
                timeout=args.timeout,
                interval=0.02,
                what=f"the merge of {previous.repo}#{previous.number}",
            )
        green_unit(fake, pull)
        green = time.monotonic()
        fake.set_status(ORG, pull.repo, pull.head, SCAN, "success", "Scan passed.")
        merge = Merge(pull, green)
        merge.http_status = hook.post("status", status_webhook(pull, 10_000 + k))
        merge.answered = time.monotonic()
        merges.append(merge)
        last_in_repo[pull.repo] = pull
        if args.interval <= 0:
            wait_until(
                lambda p=pull: merge_path(p) in merges_at(fake),
                timeout=args.timeout,
                interval=0.01,
                what=f"the merge of {pull.repo}#{pull.number}",
            )
    deadline = time.monotonic() + args.timeout
    wanted = {merge_path(m.pull) for m in merges}
    while time.monotonic() < deadline and not wanted <= set(merges_at(fake)):
        time.sleep(0.05)
    _stages(fake, merges)
    return merges


def _stages(fake: TimedGitHub, merges: list[Merge]) -> None:
    with fake._timing:
        seen = list(fake.seen)
    merged = merges_at(fake)
    for merge in merges:
        pull = merge.pull
        merge.merged = merged.get(merge_path(pull), 0.0)
        scope = f'repo:"{ORG}/{pull.repo}"'
        status_path = f"/repos/{ORG}/{pull.repo}/statuses/{pull.head}"
        for request in seen:
            if request.at < merge.green:
                continue
            if not merge.read and scope in request.scope:
                merge.read = request.at
            if not merge.status and request.path == status_path:
                merge.status = request.at


def warm_up(fake: TimedGitHub, hook: Hook, plan: Plan, count: int, timeout: float):
    """Status webhooks for pull requests that cannot merge: each goes the
    whole way (hook, worker, debounced sync of its repository), so the
    processes have connected and loaded everything before anything is
    timed."""
    for k, pull in enumerate(plan.others[:count]):
        since = time.monotonic()
        payload = json.loads(status_webhook(pull, 1_000 + k))
        payload["context"] = "lint"
        hook.post("status", json.dumps(payload).encode())
        scope = f'repo:"{ORG}/{pull.repo}"'

        def synced(since=since, scope=scope):
            with fake._timing:
                return any(s.at > since and scope in s.scope for s in fake.seen)

        wait_until(synced, timeout=timeout, interval=0.05, what="a warm-up sync")
    time.sleep(1.0)


# ------------------------------------------------------------------- report


def percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def sync_rows(runs: list[SyncRun], per: int = 1) -> list[list[str]]:
    rows = []
    for run in runs:
        c = run.cost
        rows.append(
            [
                run.name,
                f"{c.graphql / per:g}",
                f"{c.points / per:g}",
                f"{c.reads / per:g}",
                f"{c.statuses / per:g}",
                f"{c.merges / per:g}",
                f"{c.other_writes / per:g}",
                f"{c.core_used / per:g}",
                f"{run.seconds / per:.2f}",
                f"{run.cpu / per:.2f}",
                f"{run.double_cpu / per:.2f}",
                f"{run.machine / per:.2f}",
            ]
        )
    return rows


SYNC_HEADER = [
    "sync",
    "GraphQL req",
    "GraphQL pts",
    "REST reads",
    "status writes",
    "merges",
    "other writes",
    "REST limit used",
    "wall s",
    "CPU s",
    "of it double",
    "machine CPU s",
]


def average(name: str, runs: list[SyncRun]) -> SyncRun:
    total = Cost()
    for run in runs:
        for name_ in vars(total):
            setattr(total, name_, getattr(total, name_) + getattr(run.cost, name_))
    return SyncRun(
        name,
        total,
        sum(r.seconds for r in runs),
        sum(r.cpu for r in runs),
        sum(r.double_cpu for r in runs),
        None,
        sum(r.machine for r in runs),
    )


def latency_rows(merges: list[Merge]) -> list[list[str]]:
    stages = [
        ("/hook answered", lambda m: m.answered),
        ("Tide read the repo", lambda m: m.read),
        ("tide status written", lambda m: m.status),
        ("merge call", lambda m: m.merged),
    ]
    rows = []
    for name, moment in stages:
        values = sorted(moment(m) - m.green for m in merges if moment(m))
        rows.append(
            [
                name,
                str(len(values)),
                *(f"{percentile(values, p):.3f}" for p in (50, 90, 99)),
                f"{values[-1]:.3f}" if values else "nan",
            ]
        )
    return rows


# ---------------------------------------------------------------------- run


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.tide",
        description="Tide's GitHub cost and green-to-merge latency against "
        "the GitHub double.",
    )
    parser.add_argument("--pulls", type=int, default=1000, help="open pull requests")
    parser.add_argument("--repos", type=int, default=50, help="repositories")
    parser.add_argument(
        "--merges", type=int, default=100, help="green-to-merge latencies to time"
    )
    parser.add_argument(
        "--changes", type=int, default=10, help="incremental syncs after one change"
    )
    parser.add_argument(
        "--ready",
        type=int,
        default=10,
        help="pull requests mergeable at the first sync (at most one a repo)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=3.0,
        help="seconds between green contexts (open loop); 0: each after the "
        "previous merge",
    )
    parser.add_argument(
        "--sync-write-spacing",
        type=float,
        default=0.0,
        help="PROW_GITHUB_WRITE_SPACING_SECONDS for the measured syncs (the "
        "first one writes a status on every pull request)",
    )
    parser.add_argument(
        "--merge-write-spacing",
        type=float,
        default=None,
        help="PROW_GITHUB_WRITE_SPACING_SECONDS for the worker (default: the "
        "project's, 1 s)",
    )
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2, help="warm-up webhooks")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="longest wait for a merge"
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="keep prow_bench_tide"
    )
    args = parser.parse_args(argv)
    used = args.merges + args.changes + min(args.ready, args.repos)
    if args.repos < 1 or args.pulls < used:
        parser.error(
            f"--pulls must hold the {used} pull requests --merges, --changes "
            "and --ready need"
        )
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    with ExitStack() as stack:
        workdir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="prow-bench-tide-"))
        )
        if shutil.which("redis-server"):
            broker, _, _ = stack.enter_context(own_redis())
        else:
            broker = ""
        # Redis db 6 when there is no redis-server of its own to start.
        use_own_database("prow_bench_tide", 6, workdir)
        if broker:
            os.environ["CELERY_BROKER_URL"] = broker
        os.environ["PROW_CACHE_URL"] = os.environ["CELERY_BROKER_URL"]
        fake = TimedGitHub().start()
        stack.callback(fake.stop)
        fake.set_authenticated_user("prow-bot")
        env = _environment(args, workdir, fake)
        os.environ.update({k: v for k, v in env.items() if k != "PROW_DATA_DIR"})
        try:
            outcome = _run(args, stack, workdir, fake, env)
        finally:
            if not args.keep_database:
                from django.db import connections

                connections.close_all()
                drop_own_database()
    return report(args, *outcome)


def _environment(args, workdir: Path, fake: TimedGitHub) -> dict[str, str]:
    token = workdir / "token"
    token.write_text("bot-token\n")
    secret = uuid.uuid4().hex
    (workdir / "hmac").write_text(secret + "\n")
    # The same config in the files a process would import at start, so
    # nothing can replace the one activated here with the examples.
    (workdir / "config.yaml").write_text(config_yaml(args.repos))
    (workdir / "plugins.yaml").write_text("")
    env = {
        "DJANGO_SETTINGS_MODULE": "prow.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
        "PROW_CACHE_URL": os.environ["CELERY_BROKER_URL"],
        "PROW_DATA_DIR": str(workdir / "data"),
        "PROW_GITHUB_ENDPOINT": fake.url,
        "PROW_GITHUB_GRAPHQL_ENDPOINT": f"{fake.url}/graphql",
        "PROW_GITHUB_TOKEN_PATH": str(token),
        "PROW_GITHUB_APP_ID": "",
        "PROW_HMAC_SECRET_FILE": str(workdir / "hmac"),
        "PROW_CONFIG_PATH": str(workdir / "config.yaml"),
        "PROW_PLUGIN_CONFIG_PATH": str(workdir / "plugins.yaml"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        "BENCH_SECRET": secret,
    }
    if args.merge_write_spacing is not None:
        env["PROW_GITHUB_WRITE_SPACING_SECONDS"] = str(args.merge_write_spacing)
    return env


def _run(args, stack: ExitStack, workdir: Path, fake: TimedGitHub, env):
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command

    from jobs.models import ProwJob
    from prow.config.models import ConfigVersion
    from prow.config.services import config_version_create

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
    config_version_create(
        config_yaml=config_yaml(args.repos),
        plugins_yaml="",
        source=ConfigVersion.Source.COMMAND,
    )
    print(
        f"seeding {args.pulls} pull requests in {args.repos} repositories ...",
        flush=True,
    )
    plan = seed(fake, args)

    settings.PROW_GITHUB_WRITE_SPACING_SECONDS = args.sync_write_spacing
    print("first sync ...", flush=True)
    first = measured_sync(fake, "first (full)")
    idle = measured_sync(fake, "idle, right after")
    changed = []
    for pull in plan.changes:
        green_unit(fake, pull)
        fake.label_as(ORG, pull.repo, pull.number, "reviewer", APPROVED)
        changed.append(measured_sync(fake, "after one change"))
    idle_again = measured_sync(fake, "idle, after the changes")
    jobs_after_syncs = ProwJob.objects.count()

    print(
        f"starting gunicorn and a Celery worker; {args.merges} merges, "
        f"one every {args.interval:g}s ...",
        flush=True,
    )
    with ExitStack() as processes:
        merges, merge_cost = _merge_phase(args, processes, workdir, fake, env, plan)
    attempts = Counter(
        s.path for s in fake.seen if s.method == "PUT" and s.path.endswith("/merge")
    )
    checks = {
        "jobs": jobs_after_syncs,
        "jobs_end": ProwJob.objects.count(),
        "twice": sum(1 for n in attempts.values() if n > 1),
        "unmerged": [f"{m.pull.repo}#{m.pull.number}" for m in merges if not m.merged],
        "refused": sum(1 for m in merges if m.http_status != 200),
    }
    return plan, [first, idle], changed, idle_again, merges, merge_cost, checks


def _merge_phase(args, stack: ExitStack, workdir: Path, fake: TimedGitHub, env, plan):
    """gunicorn and a worker, as deployed (no beat), and the timed merges."""
    port = free_port()
    child_env = {**os.environ, **env}
    web = [sys.executable, "-m", "gunicorn", "prow.wsgi", "--bind", f"127.0.0.1:{port}"]
    web += ["--workers", "2", "--threads", "4", "--log-level", "warning"]
    worker = [sys.executable, "-m", "celery", "-A", "prow", "worker"]
    worker += ["--loglevel", "INFO", "--concurrency", str(args.worker_concurrency)]
    web_log, worker_log = workdir / "gunicorn.log", workdir / "worker.log"
    stack.enter_context(running(web, child_env, web_log))
    stack.enter_context(running(worker, child_env, worker_log))
    try:
        wait_until(
            lambda: http_get(f"http://127.0.0.1:{port}/healthz/ready")[0] == 200,
            timeout=60,
            what="gunicorn",
        )
        hook = Hook(port, env["BENCH_SECRET"])
        stack.callback(hook.close)
        warm_up(fake, hook, plan, args.warmup, timeout=60)
        meter = Meter(fake)
        merges = run_merges(fake, hook, plan, args)
        merge_cost = meter.cost()
    except AssertionError:
        for log in (web_log, worker_log):
            print(f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:])
        raise
    return merges, merge_cost


def report(args, plan, syncs, changed, idle_again, merges, merge_cost, checks) -> int:
    first, idle = syncs
    print()
    print(
        f"Tide, org {ORG!r}: {args.pulls} open pull requests in {args.repos} "
        f"repositories; {len(plan.ready)} mergeable at the start, "
        f"{len(plan.candidates)} waiting for {SCAN}, the rest missing labels "
        "or held"
    )
    print(
        "syncs run in this process, beside the GitHub double (its CPU is "
        f"shown); status writes spaced {args.sync_write_spacing:g}s "
        "(--sync-write-spacing)"
    )
    print(
        f"machine CPU: all {os.cpu_count()} cores, PostgreSQL and anything "
        "else running included; far above the process's CPU means other "
        "work competed with the sync"
    )
    print()
    rows = sync_rows([first, idle])
    if changed:
        rows += sync_rows(
            [average(f"one change (mean of {len(changed)})", changed)], len(changed)
        )
    rows += sync_rows([idle_again])
    print(table(SYNC_HEADER, rows))
    print(
        f"first sync: {first.report.pools} pools, {first.report.pulls} pull "
        f"requests decided, actions {dict(first.report.actions)}"
    )
    if first.cost.statuses:
        print(
            f"  at GitHub's one write a second (the project's default spacing) "
            f"its {first.cost.writes} writes alone take {first.cost.writes:g}s "
            "or more"
        )
    print()
    print(
        f"green to merge over {len(merges)} merges: {SCAN} set to success, "
        "signed status webhook to /hook (gunicorn), Celery worker (no beat), "
        "debounce as configured; seconds from the green context"
    )
    print(table(["stage", "n", "p50", "p90", "p99", "max"], latency_rows(merges)))
    c, n = merge_cost, max(len(merges), 1)
    print(
        f"per merge: {c.graphql / n:.2f} GraphQL requests ({c.points / n:.2f} "
        f"points), {c.reads / n:.2f} REST reads, {c.writes / n:.2f} writes "
        f"({c.statuses / n:.2f} statuses, {c.merges / n:.2f} merges)"
    )
    print()

    latencies = sorted(m.merged - m.green for m in merges if m.merged)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    first_reads = first.cost.graphql + first.cost.reads
    verdicts = [
        (
            idle.cost.graphql <= 1 and idle_again.cost.graphql <= 1,
            f"idle sync: {idle.cost.graphql} and {idle_again.cost.graphql} GraphQL "
            f"requests for 1 org (target <= 1 each); REST reads "
            f"{idle.cost.reads}, {idle_again.cost.reads}; writes "
            f"{idle.cost.writes}, {idle_again.cost.writes}",
        ),
        (
            first_reads <= FIRST_SYNC_READS_TARGET,
            f"first sync read {args.pulls} pull requests with {first_reads} "
            f"requests ({first.cost.graphql} GraphQL, {first.cost.reads} REST) "
            f"(target <= {FIRST_SYNC_READS_TARGET}); its {first.cost.writes} "
            "writes are statuses (within the per-sync budget) and merges",
        ),
        (
            p50 <= P50_TARGET and p99 <= P99_TARGET,
            f"green to merge p50 {p50:.2f}s, p99 {p99:.2f}s "
            f"(target p50 <= {P50_TARGET:g}s, p99 <= {P99_TARGET:g}s)",
        ),
        (
            not checks["unmerged"] and not checks["twice"] and not checks["refused"],
            f"{len(merges) - len(checks['unmerged'])}/{len(merges)} merged, "
            f"{checks['twice']} merged twice, {checks['refused']} webhooks refused"
            + (
                f"; not merged: {' '.join(checks['unmerged'][:10])}"
                if checks["unmerged"]
                else ""
            ),
        ),
        (
            checks["jobs_end"] == 0,
            f"no retests were needed: {checks['jobs_end']} ProwJobs created",
        ),
    ]
    for ok, text in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for ok, _ in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
