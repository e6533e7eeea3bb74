"""Deck over a million jobs: how long its pages take to serve.

Fills its own PostgreSQL database with N ProwJobs (default 1,000,000) by
COPY: 200 job names from a generated config (two presubmits, a postsubmit
and a periodic for each of 50 repositories in 5 orgs), every type and
state (mostly success and failure; about 3% still running, all among the
newest tenth), four months of start times, pull requests and their
authors, and the JSON columns the real code writes (refs, pod spec,
decoration config, labels, annotations, report states), built once per
job by jobs.services and jobs.labels. Every job name gets its BuildCounter
row, as allocate_build_id leaves them.

Then it asks Django, in process through the test Client (real URL routing,
middleware, views and templates; no network, so this is server time), for:

    /                             the job list, first page
    /?before=<id>                 page 50 (each page's "older" cursor, 49 times)
    /?repo=org/repo&state=failure a filtered page, and its page 20
    /?q=<repo> and /?author=...   text search and author filter
    /?author=...&type=periodic    a combination nothing matches
    /prowjobs.js                  the newest 1,000 jobs, whole and as the
                                  original Deck's page asks (?omit=...)
    /api/v1/prowjobs/             the REST list, first page and page 50
    /job-history/<job>            one job's runs
    /pr/<org>/<repo>/<n>          one pull request's jobs

For each: one warm-up request, one with its SQL recorded, then --repeat
timed ones. The table gives the median and p90, the median CPU this
process used (Django's share, which other load on the machine does not
inflate), the queries one request makes and the time they took in
PostgreSQL, and PASS/FAIL on the median against the targets: every page
under 100 ms, /prowjobs.js under 300 ms. Page 1 and page 50 must make the
same number of queries. A URL answering 404 is reported as not served
yet. For a target over its limit (or every target, with --explain) the
slowest query it made runs again under EXPLAIN (ANALYZE, BUFFERS) and the
plan is printed. Exit status 0 when all passed.

    .venv/bin/python -m bench.deck                  # 1M rows, dropped after
    .venv/bin/python -m bench.deck --reuse          # keep them for next time
    .venv/bin/python -m bench.deck --rows 20000 --repeat 5 --explain

Uses its own database, prow_bench_deck: created afresh and dropped at the
end, or with --reuse kept, and used as it is when it already holds --rows
jobs. Django's cache is Redis db 15 (emptied at the start). A million
rows take about 2.2 GB with their indexes, and about two minutes to load.
"""

import argparse
import json
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_own_database, use_own_database  # noqa: E402

DATABASE = "prow_bench_deck"
REDIS_DB = 15
SPREAD_DAYS = 120
SEED = 20240601
EXTERNAL_URL = "https://prow.example.com"
LINK = "https://github.com"
PAGE_LIMIT_MS = 100
PROWJOBS_JS_LIMIT_MS = 300
UI_PROWJOBS = (
    "/prowjobs.js?var=allBuilds&omit=annotations,labels,decoration_config,pod_spec"
)

ORGS = {
    "kubernetes": [
        "test-infra", "kubectl", "kops", "minikube", "release",
        "website", "community", "enhancements", "dashboard", "ingress-nginx",
    ],
    "kubernetes-sigs": [
        "kustomize", "cluster-api", "kind", "controller-runtime", "external-dns",
        "metrics-server", "descheduler", "gateway-api", "kueue", "cloud-provider",
    ],
    "istio": [
        "istio", "proxy", "api", "tools", "ztunnel",
        "client-go", "pilot", "operator", "envoy", "bots",
    ],
    "knative": [
        "serving", "eventing", "func", "client", "pkg",
        "hack", "docs", "networking", "operator-kn", "sample-app",
    ],
    "acme": [
        "billing", "frontend", "backend", "payments", "search",
        "auth", "mobile", "infra", "data-pipeline", "monitoring",
    ],
}  # fmt: skip
REPOS = [(org, repo) for org, repos in ORGS.items() for repo in repos]
AUTHORS = 3_000

# Finished jobs end in these states with these weights; of the newest tenth
# of the jobs, RUNNING_SHARE are still triggered or pending.
FINISHED = {"success": 80, "failure": 14, "aborted": 4, "error": 2}
RUNNING_SHARE = 0.3
DESCRIPTIONS = {
    "triggered": "Job triggered.",
    "pending": "Job triggered.",
    "success": "Job succeeded.",
    "failure": "Job failed.",
    "aborted": "Aborted by trigger plugin for a newer commit.",
    "error": "Pod got deleted unexpectedly",
}


# The data -------------------------------------------------------------------


def _config_job(name: str, dashboard: str, make: str, **extra) -> dict:
    return {
        "name": name,
        "decorate": True,
        "labels": {"preset-service-account": "true"},
        "annotations": {"testgrid-dashboards": dashboard, "testgrid-tab-name": name},
        "spec": {
            "containers": [
                {
                    "image": "gcr.io/k8s-staging-test-infra/kubekins-e2e:"
                    "v20240515-17c6d50e24-master",
                    "command": ["runner.sh"],
                    "args": ["make", make],
                    "resources": {
                        "requests": {"cpu": "2", "memory": "4Gi"},
                        "limits": {"cpu": "2", "memory": "4Gi"},
                    },
                }
            ]
        },
        **extra,
    }


def config_yaml() -> str:
    """Four jobs per repository, shaped like a real job config."""
    import yaml

    presubmits, postsubmits, periodics = {}, {}, []
    for org, repo in REPOS:
        board = f"{org}-{repo}"
        presubmits[f"{org}/{repo}"] = [
            _config_job(f"pull-{repo}-unit", board, "test", always_run=True),
            _config_job(f"pull-{repo}-e2e", board, "e2e", always_run=True),
        ]
        postsubmits[f"{org}/{repo}"] = [
            _config_job(f"post-{repo}-push-images", board, "push", branches=["main"])
        ]
        periodics.append(
            _config_job(
                f"ci-{repo}-periodic",
                board,
                "e2e",
                interval="6h",
                extra_refs=[{"org": org, "repo": repo, "base_ref": "main"}],
            )
        )
    image = "gcr.io/k8s-prow/{}:v20240515-0b2f1e7a9"
    plank = {
        "default_decoration_configs": {
            "*": {
                "timeout": "2h",
                "grace_period": "15m",
                "utility_images": {
                    name: image.format(name)
                    for name in ("clonerefs", "initupload", "entrypoint", "sidecar")
                },
                "gcs_configuration": {
                    "bucket": "prow-artifacts",
                    "path_strategy": "explicit",
                },
            }
        }
    }
    return yaml.safe_dump(
        {
            "prowjob_namespace": "default",
            "pod_namespace": "test-pods",
            "plank": plank,
            "presubmits": presubmits,
            "postsubmits": postsubmits,
            "periodics": periodics,
        },
        sort_keys=False,
    )


def load_config() -> None:
    """Store the generated config as the active version (once)."""
    from prow.config.active import forget_cached_config
    from prow.config.models import ConfigVersion
    from prow.config.services import config_version_create

    text = config_yaml()
    newest = ConfigVersion.objects.order_by("-pk").first()
    if newest is None or newest.content_hash != ConfigVersion.hash_texts(text, ""):
        config_version_create(
            config_yaml=text, plugins_yaml="", source=ConfigVersion.Source.COMMAND
        )
    forget_cached_config()


class Template:
    """One job name and type as the real helpers would store it: everything
    but the per-run columns, JSON already encoded."""

    def __init__(self, job, job_type: str, org: str, repo: str, config):
        from jobs.labels import prowjob_labels_and_annotations
        from jobs.services import periodic_fields, postsubmit_fields, presubmit_fields
        from prow.config.schema import Periodic, Postsubmit

        refs = {"org": org, "repo": repo, "base_ref": "main", "base_sha": ""}
        if isinstance(job, Periodic):
            fields = periodic_fields(job, config)
        elif isinstance(job, Postsubmit):
            fields = postsubmit_fields(job, refs, config)
        else:
            fields = presubmit_fields(job, refs, config)
        fields["type"] = job_type
        labels, annotations = prowjob_labels_and_annotations(
            job_type=job_type,
            job_name=job.name,
            context=fields.get("context", ""),
            refs=fields.get("refs"),
            extra_refs=fields["extra_refs"],
            config_labels=fields.pop("config_labels"),
            config_annotations=fields.pop("config_annotations"),
        )
        self.job = job.name
        self.type = job_type
        self.org, self.repo = org, repo
        self.has_refs = fields.pop("refs") is not None
        self.labels = labels
        # Minutes a run takes, roughly: e2e and periodic jobs run longer.
        self.minutes = 45 if ("e2e" in job.name or job_type == "periodic") else 12
        self.columns = {
            key: json.dumps(value) if isinstance(value, (dict, list)) else value
            for key, value in fields.items()
        }
        self.columns.update(
            annotations=json.dumps(annotations),
            org=org,
            repo=repo,
            base_ref="main",
            labels=None,
        )


def templates(config) -> list[tuple[Template, float]]:
    """Every (job, type) that runs, with how often, relatively: presubmits
    dominate, busy repositories (a power law over the 50) run far more."""
    busy = {org_repo: 1 / (rank + 1) ** 0.8 for rank, org_repo in enumerate(REPOS)}
    out = []
    for kind, how_often, jobs_by_repo in (
        ("presubmit", 6.0, config.presubmits),
        ("batch", 0.3, config.presubmits),
        ("postsubmit", 1.5, config.postsubmits),
    ):
        for key, jobs in jobs_by_repo.items():
            org, repo = key.split("/")
            for job in jobs:
                template = Template(job, kind, org, repo, config)
                out.append((template, how_often * busy[org, repo]))
    for job in config.periodics:
        first = job.extra_refs[0]
        out.append((Template(job, "periodic", first.org, first.repo, config), 0.4))
    return out


def generate_rows(count: int, columns: list[str], config, counters: Counter):
    """The rows, oldest first, so ids grow with start time as in production."""
    from jobs.labels import EVENT_GUID_LABEL, PULL_LABEL

    rng = random.Random(SEED)
    pool = templates(config)
    picks = rng.choices([t for t, _ in pool], [w for _, w in pool], k=count)
    # Authors: a few people open most pull requests.
    logins = [f"dev-{n:04d}" for n in range(AUTHORS)]
    author_slots = rng.choices(logins, [1 / (n + 1) for n in range(AUTHORS)], k=8192)
    repo_index = {org_repo: n for n, org_repo in enumerate(REPOS)}
    defaults = _column_defaults(columns)
    started = datetime.now(UTC) - timedelta(days=SPREAD_DAYS)
    step = timedelta(days=SPREAD_DAYS) / count
    finished_states = list(FINISHED)
    finished_weights = list(FINISHED.values())

    def pull(template: Template, progress: float) -> dict:
        # Pull request numbers grow with time; a PR's runs stay close together.
        r = repo_index[template.org, template.repo]
        number = 1000 + r * 37 + int(progress * 4000) - rng.randrange(120)
        author = author_slots[(number * 2654435761 + r * 97) % len(author_slots)]
        sha = f"{rng.getrandbits(160):040x}"
        link = f"{LINK}/{template.org}/{template.repo}/pull/{number}"
        return {
            "number": number,
            "author": author,
            "sha": sha,
            "title": f"Fix flaky test in {template.repo} ({number})",
            "head_ref": f"fix-{number}",
            "link": link,
            "commit_link": f"{link}/commits/{sha}",
            "author_link": f"{LINK}/{author}",
        }

    for i, template in enumerate(picks):
        progress = i / count
        row = dict(defaults)
        row.update(template.columns)
        name = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        start = started + step * i + timedelta(seconds=rng.randrange(30))
        if progress > 0.9 and rng.random() < RUNNING_SHARE:
            state = "pending" if rng.random() < 0.75 else "triggered"
        else:
            state = rng.choices(finished_states, finished_weights)[0]
        counters[template.job] += 1
        labels = dict(template.labels)
        if template.has_refs:
            base_sha = f"{rng.getrandbits(160):040x}"
            refs = {
                "org": template.org,
                "repo": template.repo,
                "repo_link": f"{LINK}/{template.org}/{template.repo}",
                "base_ref": "main",
                "base_sha": base_sha,
                "base_link": f"{LINK}/{template.org}/{template.repo}/commit/{base_sha}",
            }
            if template.type in ("presubmit", "batch"):
                pulls = [pull(template, progress)]
                if template.type == "batch":
                    pulls += [
                        pull(template, progress) for _ in range(rng.randint(1, 4))
                    ]
                refs["pulls"] = pulls
                labels[PULL_LABEL] = str(pulls[0]["number"])
                row.update(
                    pull_number=pulls[0]["number"],
                    pull_sha=pulls[0]["sha"],
                    author=pulls[0]["author"],
                )
            if template.type != "batch":  # Tide starts batches, not webhooks
                labels[EVENT_GUID_LABEL] = str(uuid.UUID(int=rng.getrandbits(128)))
            row["refs"] = json.dumps(refs)
        row.update(
            name=name,
            state=state,
            labels=json.dumps(labels),
            description=DESCRIPTIONS[state],
            build_id=str(counters[template.job]),
            start_time=start,
        )
        if state != "triggered":
            pending = start + timedelta(seconds=5 + rng.randrange(60))
            row.update(
                pending_time=pending,
                pod_name=name,
                url=f"{EXTERNAL_URL}/view/{name}",
            )
            if state != "pending":
                minutes = template.minutes * (0.5 + rng.random())
                row.update(
                    completion_time=pending + timedelta(minutes=minutes),
                    prev_report_states=json.dumps({"github-reporter": state})
                    if row["report"]
                    else "{}",
                )
        yield tuple(row[c] for c in columns)


def _column_defaults(columns: list[str]) -> dict:
    from django.db.models import JSONField

    from jobs.models import ProwJob

    defaults = {}
    for field in ProwJob._meta.concrete_fields:
        if field.attname not in columns:
            continue
        value = None if field.null and not field.has_default() else field.get_default()
        if isinstance(field, JSONField) and value is not None:
            value = json.dumps(value)
        defaults[field.attname] = value
    return defaults


def load(count: int) -> None:
    """COPY the rows in with the secondary indexes dropped, then build the
    indexes again from their own definitions (one transaction: a run
    stopped halfway leaves the table as it was) and VACUUM ANALYZE."""
    from django.db import connection

    from jobs.models import BuildCounter, ProwJob
    from prow.config.active import active_config

    config = active_config().config
    table = ProwJob._meta.db_table
    columns = [f.column for f in ProwJob._meta.concrete_fields if not f.primary_key]
    counters: Counter = Counter()
    connection.ensure_connection()
    raw = connection.connection
    clock = time.perf_counter()
    with raw.transaction(), raw.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} RESTART IDENTITY CASCADE")
        cursor.execute(f"TRUNCATE {BuildCounter._meta.db_table} RESTART IDENTITY")
        # Indexes that back no constraint (the pk and the unique name stay).
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint"
            " WHERE conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        quoted = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in generate_rows(count, columns, config, counters):
                copy.write_row(row)
        with cursor.copy(
            f"COPY {BuildCounter._meta.db_table} (job, last) FROM STDIN"
        ) as copy:
            for job, last in sorted(counters.items()):
                copy.write_row((job, last))
        copied = time.perf_counter()
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        indexed = time.perf_counter()
    with raw.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"  COPY {copied - clock:.1f} s, {len(indexes)} indexes "
        f"{indexed - copied:.1f} s, VACUUM ANALYZE "
        f"{time.perf_counter() - indexed:.1f} s",
        flush=True,
    )


# The measurements ----------------------------------------------------------


class Target:
    """One URL to time. `status` says why it was not measured; `expect` is
    text the page must contain (page 50 must show page 50's jobs)."""

    def __init__(self, label: str, url: str | None, *, limit_ms: float = PAGE_LIMIT_MS):
        self.label, self.url, self.limit_ms = label, url, limit_ms
        self.status = "" if url else "no cursor to follow"
        self.expect = ""
        self.note = ""
        self.times_ms: list[float] = []
        # This process's CPU per request: unlike the wall clock, it does not
        # grow while other work on the machine holds the cores.
        self.cpu_ms: list[float] = []
        self.queries: list[dict] = []
        self.sql_ms = 0.0  # time spent waiting for PostgreSQL in one request

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.times_ms, n=10, method="inclusive")[-1]

    @property
    def passed(self) -> bool:
        return self.median < self.limit_ms


def get(client, url: str):
    """The response, or a string saying why there is none."""
    try:
        response = client.get(url)
    except Exception as exc:  # a view still being built may raise
        return f"error: {type(exc).__name__}: {exc}"[:120]
    if response.status_code == 404:
        return "not served yet"
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    return response


def measure(client, target: Target, repeat: int) -> None:
    """A warm-up request, one with its queries recorded, then `repeat`
    timed ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = get(client, target.url)
    if isinstance(response, str):
        target.status = response
        return
    if target.expect and target.expect not in response.content.decode():
        target.note = "  (shows other jobs: cursor ignored?)"
    # CaptureQueriesContext keeps times to the millisecond: time them here.
    waited = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited.append(time.perf_counter() - started)

    with (
        CaptureQueriesContext(connection) as captured,
        connection.execute_wrapper(timed),
    ):
        client.get(target.url)
    target.queries = captured.captured_queries
    target.sql_ms = sum(waited) * 1000
    # Transaction control (the filtered list's statement timeout) is
    # captured without passing through execute_wrapper; pair what matches.
    for query, seconds in zip(target.queries, waited, strict=False):
        query["seconds"] = seconds
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        client.get(target.url)
        target.times_ms.append((time.perf_counter() - started) * 1000)
        target.cpu_ms.append((time.process_time() - cpu) * 1000)


def list_cursor(depth: int, **filters) -> tuple[str | None, str]:
    """The `before` cursor of page `depth` of the job list, taken from each
    page's "older" cursor as the page's link would give it, and the name
    of that page's first job. (None, "") when the list is shorter."""
    from deck.queries import JobFilters, job_page

    before = None
    for _ in range(depth - 1):
        before = job_page(JobFilters(**filters), before=before).older
        if before is None:
            return None, ""
    page = job_page(JobFilters(**filters), before=before)
    return str(before), str(page.rows[0].name)


def api_next(client, url: str, depth: int) -> str | None:
    """Page `depth` of a REST list, by following its `next` link (None when
    the list is not served or has no such page)."""
    for _ in range(depth - 1):
        response = get(client, url)
        if isinstance(response, str):
            return None
        try:
            url = response.json().get("next")
        except (ValueError, AttributeError):
            return None
        if not url:
            return None
    return url


def pick_examples() -> dict:
    """What to filter on: a repository a third of the way down the busy
    ranking, its e2e job, its busiest author of late, and the pull request
    with the most runs among its recent jobs."""
    from jobs.models import ProwJob

    org, repo = REPOS[len(REPOS) // 3]
    recent = list(
        ProwJob.objects.filter(org=org, repo=repo, pull_number__isnull=False)
        .order_by("-id")
        .values_list("author", "pull_number")[:2000]
    )
    authors = Counter(author for author, _ in recent)
    pulls = Counter(pull for _, pull in recent)
    return {
        "org": org,
        "repo": repo,
        "job": f"pull-{repo}-e2e",
        "author": authors.most_common(1)[0][0] if recent else "dev-0000",
        "pull": pulls.most_common(1)[0][0] if recent else 1,
    }


def targets(client, examples: dict) -> list[Target]:
    from urllib.parse import urlencode

    org, repo = examples["org"], examples["repo"]
    author = examples["author"]
    failures = {"repo": f"{org}/{repo}", "state": "failure"}
    nothing = {"author": author, "type": "periodic"}
    before, first = list_cursor(50)
    page_50 = Target("job list, page 50", before and f"/?before={before}")
    page_50.expect = first
    before, first = list_cursor(20, **failures)
    failures_20 = Target(
        "repo+failure, page 20",
        before and "/?" + urlencode({**failures, "before": before}),
    )
    failures_20.expect = first
    api = "/api/v1/prowjobs/"
    api_50 = Target("API list, page 50", api_next(client, api, 50))
    return [
        Target("job list, page 1", "/"),
        page_50,
        Target("repo+failure", "/?" + urlencode(failures)),
        failures_20,
        Target(f"text search q={repo}", "/?" + urlencode({"q": repo})),
        Target("author filter", "/?" + urlencode({"author": author})),
        # Nothing matches (periodics have no author), and each filter alone
        # matches many rows: the planner's worst case, a walk of every id.
        Target("author + type=periodic", "/?" + urlencode(nothing)),
        Target("/prowjobs.js", "/prowjobs.js", limit_ms=PROWJOBS_JS_LIMIT_MS),
        # What the original Deck's job list page asks for.
        Target(
            "/prowjobs.js?omit=... (UI)", UI_PROWJOBS, limit_ms=PROWJOBS_JS_LIMIT_MS
        ),
        Target("API list, page 1", api),
        api_50,
        Target("job history", f"/job-history/{examples['job']}"),
        Target("PR page", f"/pr/{org}/{repo}/{examples['pull']}"),
    ]


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return [line for (line,) in cursor.fetchall()]


def report(measured: list[Target], explain_all: bool) -> bool:
    """Print the table, the queries-per-page check and the plans; True when
    everything passed."""
    print(
        f"\n{'target':<30} {'median ms':>9} {'p90 ms':>7} {'cpu ms':>7}"
        f" {'queries':>7} {'sql ms':>7} {'limit':>7}  result"
    )
    ok = True
    for t in measured:
        if t.status:
            print(f"{t.label:<30} {'':>47}  {t.status}")
            continue
        ok &= t.passed
        print(
            f"{t.label:<30} {t.median:>9.1f} {t.p90:>7.1f}"
            f" {statistics.median(t.cpu_ms):>7.1f} {len(t.queries):>7}"
            f" {t.sql_ms:>7.1f} {t.limit_ms:>4} ms  "
            f"{'PASS' if t.passed else 'FAIL'}{t.note}"
        )
    by_label = {t.label: t for t in measured}
    for name in ("job list", "API list"):
        first, deep = by_label[f"{name}, page 1"], by_label[f"{name}, page 50"]
        if first.status or deep.status:
            continue
        same = len(first.queries) == len(deep.queries)
        ok &= same
        print(
            f"{name}: {len(first.queries)} queries on page 1, "
            f"{len(deep.queries)} on page 50: {'equal' if same else 'NOT EQUAL'}"
        )
    for t in measured:
        if t.status or not t.queries or (t.passed and not explain_all):
            continue
        slowest = max(t.queries, key=lambda q: q["seconds"])
        print(f"\n{t.label} ({t.url}), slowest of its {len(t.queries)} queries:")
        print(f"  {slowest['sql'][:1000]}")
        for line in explain(slowest["sql"]):
            print(f"    {line}")
    return ok


# The run -------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database; skip loading when it already holds --rows jobs",
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed requests each")
    parser.add_argument(
        "--explain", action="store_true", help="print plans for every target"
    )
    args = parser.parse_args()
    if args.repeat < 2:
        parser.error("--repeat must be at least 2 (for a p90)")

    workdir = Path(tempfile.mkdtemp(prefix="prow-bench-deck-"))
    use_own_database(DATABASE, REDIS_DB, workdir, keep=args.reuse)
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    # Production re-reads the newest config id every 2 s; here that one
    # query would land in some requests and not others.
    os.environ["PROW_CONFIG_CACHE_SECONDS"] = "3600"

    import django

    django.setup()
    # A target not built yet answers 404; the table says so once.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    import redis
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from jobs.models import ProwJob

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    load_config()

    database = connection.settings_dict["NAME"]
    if args.reuse and ProwJob.objects.count() == args.rows:
        print(f"reusing {args.rows:,} jobs in {database}", flush=True)
    else:
        print(f"loading {args.rows:,} jobs into {database} ...", flush=True)
        started = time.perf_counter()
        load(args.rows)
        print(f"loaded in {time.perf_counter() - started:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size(%s))",
            [ProwJob._meta.db_table],
        )
        print(f"table and indexes: {cursor.fetchone()[0]}")
        cursor.execute(
            "SELECT state, count(*) FROM jobs_prowjob GROUP BY 1 ORDER BY 2 DESC"
        )
        print("states: " + ", ".join(f"{s} {n:,}" for s, n in cursor.fetchall()))

    client = Client()
    examples = pick_examples()
    print(
        "filters: repo {org}/{repo}, author {author}, job {job}, pull {pull}".format(
            **examples
        ),
        flush=True,
    )
    all_targets = targets(client, examples)
    for target in all_targets:
        if not target.status:
            measure(client, target, args.repeat)
        print(f"  {target.label}: {target.status or 'measured'}", flush=True)
    ok = report(all_targets, args.explain)

    connection.close()
    if not args.reuse:
        drop_own_database()
    shutil.rmtree(workdir)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
