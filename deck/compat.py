"""The original Deck's JSON endpoints, for the scripts and tools that read
them: /prowjobs.js, /tide.js and /tide-history.js.

The original serves /prowjobs.js from a copy of every ProwJob in the
cluster; ours reads the database, so the list is capped (the newest
DEFAULT_LIMIT by default) and narrowed in SQL, never in Python.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import F, Func, IntegerField
from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from deck import tide_views
from deck.podinfo import LOCAL_RUN_ANNOTATIONS
from deck.queries import FilterError, JobFilters, filtered_jobs
from jobs.executors import cluster_configured
from jobs.models import SPEC_COLUMNS
from jobs.serialization import OMITTABLE, prowjob_to_dict
from prow.config.active import active_config
from tide.models import HistoryRecord, Pool
from tide.queries_text import query_fields, query_text

DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000

# A JavaScript identifier: `?var=` is written into a script, so anything
# else could inject code into the page that loads it.
_VAR = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]{0,63}$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")

# Columns prowjob_to_dict reads. The repeated refs columns (org, repo,
# author...) are only for filtering and stay in the database.
_SERIALIZED_COLUMNS = (
    "name",
    *SPEC_COLUMNS,
    "labels",
    "annotations",
    "state",
    "description",
    "url",
    "pod_name",
    "build_id",
    "pod_revival_count",
    "start_time",
    "pending_time",
    "completion_time",
    "prev_report_states",
)
# What an omitted field is set to after loading without its column: the
# serializer leaves empty values out, so no query fetches the column later.
_OMITTED_VALUE: dict[str, Any] = {
    "labels": {},
    "annotations": {},
    "pod_spec": None,
    "decoration_config": None,
    "reporter_config": None,
    "rerun_auth_config": None,
    "refs": None,
    "extra_refs": [],
    "prev_report_states": {},
}


class ContainerCount(Func):
    """How many containers a stored pod spec has (NULL without a spec),
    counted by the database so the spec itself is never sent over."""

    output_field = IntegerField()
    template = (
        "CASE WHEN %(expressions)s IS NULL THEN NULL"
        " WHEN json_type(%(expressions)s, '$.containers') = 'array'"
        " THEN json_array_length(%(expressions)s, '$.containers') ELSE 0 END"
    )

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template=(
                "CASE WHEN %(expressions)s IS NULL THEN NULL"
                " WHEN jsonb_typeof(%(expressions)s -> 'containers') = 'array'"
                " THEN jsonb_array_length(%(expressions)s -> 'containers')"
                " ELSE 0 END"
            ),
            **extra_context,
        )


def bad_request(reason: str) -> HttpResponse:
    return HttpResponse(reason + "\n", status=400, content_type="text/plain")


def script_var(params: Mapping[str, str]) -> str:
    """The ?var= name, checked before any work is done."""
    name = params.get("var", "")
    if name and not _VAR.match(name):
        raise FilterError("var", "must be a JavaScript identifier")
    return name


def script_response(payload: Any, var: str = "") -> HttpResponse:
    """JSON, or `var <name> = <JSON>;` when asked with ?var=, as the
    original writes both; never cached, since it changes every sync."""
    body = json.dumps(payload, separators=(",", ":"))
    if var:
        response = HttpResponse(
            f"var {var} = {body};", content_type="application/javascript"
        )
    else:
        response = HttpResponse(body, content_type="application/json")
    add_never_cache_headers(response)
    return response


def _script(request, build: Callable[[], Any]) -> HttpResponse:
    """The payload `build` makes, wrapped as ?var= asks; a bad name is
    refused before anything is read."""
    try:
        var = script_var(request.GET)
    except FilterError as exc:
        return bad_request(str(exc))
    return script_response(build(), var)


def _limit(value: str | None) -> int:
    if value in (None, ""):
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise FilterError("limit", f"must be a number from 1 to {MAX_LIMIT}")
    return int(value)


def _filters(params: Mapping[str, str]) -> tuple[JobFilters, dict[str, str]]:
    """Deck's job list filters plus the original's org, repo and owner.

    The original's `repo` is a repository name without its org; an
    `org/repo` value works as on our own job list.
    """
    org = (params.get("org") or "").strip()
    repo = (params.get("repo") or "").strip()
    owner = (params.get("owner") or "").strip()
    for key, value in (("org", org), ("owner", owner)):
        if value and not _NAME.match(value):
            raise FilterError(key, "must be a GitHub name")
    extra: dict[str, str] = {}
    own = {k: params.get(k, "") for k in ("type", "job", "state", "author", "pull")}
    own["q"] = params.get("q", "")
    if "/" in repo:
        own["repo"] = repo
    elif repo:
        if not _NAME.match(repo):
            raise FilterError("repo", "must be a repository name or org/repo")
        extra["repo"] = repo
    if org:
        extra["org"] = org
    if owner:
        extra["author"] = owner
    return JobFilters.from_query(own), extra


class JobRecord:
    """One job's serialized columns as attributes, which is all
    prowjob_to_dict reads. Rows come from values_list: building a model
    instance per row would cost more than the rest of the request."""

    __slots__ = (*_SERIALIZED_COLUMNS, "container_count")

    def __init__(self, columns: tuple[str, ...], values: tuple):
        for column, value in zip(columns, values, strict=True):
            setattr(self, column, value)


def prowjob_rows(
    filters: JobFilters, extra: Mapping[str, str], omit: frozenset[str], limit: int
) -> list[JobRecord]:
    """The newest `limit` visible jobs matching the filters, in one query
    that leaves the omitted columns in the database."""
    jobs = filtered_jobs(filters)
    if extra:
        jobs = jobs.filter(**extra)
    columns = tuple(c for c in _SERIALIZED_COLUMNS if c not in omit)
    if "pod_spec" in omit:
        jobs = jobs.annotate(container_count=ContainerCount(F("pod_spec")))
        columns += ("container_count",)
    values = jobs.values_list(*columns)[:limit]
    records = [JobRecord(columns, row) for row in values]
    for record in records:
        for key in omit:
            setattr(record, key, _OMITTED_VALUE[key])
        if "pod_spec" in omit and record.container_count is not None:
            # As the original: one empty container per container, so its job
            # list can still tell single-container jobs from the others.
            record.pod_spec = {
                "containers": [
                    {"name": "", "resources": {}} for _ in range(record.container_count)
                ]
            }
    return records


@require_safe
@gzip_page  # Deck reloads the list every 30 s; compressed, it is 1/30 the size
def prowjobs_js(request):
    """GET /prowjobs.js: `{"items": [ProwJob, ...]}`, newest first.

    Parameters: omit (comma list of fields to leave out; unknown names are
    ignored, as the original ignores them), var, limit, org, repo, owner,
    and the job list's own type, job, state, author, pull and q.
    """
    omit = frozenset(
        name.strip() for name in request.GET.get("omit", "").split(",")
    ).intersection(OMITTABLE)
    try:
        var = script_var(request.GET)
        limit = _limit(request.GET.get("limit"))
        filters, extra = _filters(request.GET)
    except FilterError as exc:
        return bad_request(str(exc))
    namespace = active_config().config.prowjob_namespace
    # The reduced pod spec is already in place; the serializer keeps it.
    keep = omit - {"pod_spec"}
    items = [
        prowjob_to_dict(record, prowjob_namespace=namespace, omit=keep)
        for record in prowjob_rows(filters, extra, omit, limit)
    ]
    if "annotations" not in omit and not cluster_configured():
        for item in items:
            if item["status"].get("pod_name"):
                annotations = item["metadata"].setdefault("annotations", {})
                annotations.update(LOCAL_RUN_ANNOTATIONS)
    return script_response({"items": items}, var)


def _graphql_pull(pr: Mapping, pool: Pool) -> dict:
    """A pull request summary in the shape of the original's GraphQL
    PullRequest, which its Deck reads from /tide.js."""
    return {
        "Number": pr.get("number"),
        "Author": {"Login": pr.get("author", "")},
        "Title": pr.get("title", ""),
        "HeadRefName": pr.get("head_ref", ""),
        "HeadRefOID": pr.get("sha", ""),
        "BaseRef": {"Name": pool.branch, "Prefix": "refs/heads/"},
        "Labels": {"Nodes": [{"Name": name} for name in pr.get("labels", [])]},
        "Repository": {
            "Name": pool.repo,
            "NameWithOwner": f"{pool.org}/{pool.repo}",
            "Owner": {"Login": pool.org},
        },
    }


def _batch_pending(pool: Pool) -> list[dict]:
    """The pull requests of the pool's pending batches, each once."""
    seen: dict[int, dict] = {}
    for batch in pool.batches:
        if batch.get("state") == "pending":
            for pr in batch.get("pulls", []):
                seen.setdefault(pr.get("number"), pr)
    return list(seen.values())


def _pool_dict(pool: Pool) -> dict:
    def pulls(summaries):
        return [_graphql_pull(pr, pool) for pr in summaries]

    return {
        "Org": pool.org,
        "Repo": pool.repo,
        "Branch": pool.branch,
        "SuccessPRs": pulls(pool.success_prs),
        "PendingPRs": pulls(pool.pending_prs),
        "MissingPRs": pulls(pool.missing_prs),
        "BatchPending": pulls(_batch_pending(pool)),
        "Action": pool.action,
        "Target": pulls(pool.target),
        "Blockers": [
            {
                "Number": b.get("number"),
                "Title": b.get("title", ""),
                "URL": b.get("url", ""),
            }
            for b in pool.blockers
        ],
        "Error": pool.error,
        "TenantIDs": [],
    }


def _go_time(moment) -> str:
    # Go writes UTC times as RFC 3339 with a Z.
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _record_dict(record: HistoryRecord) -> dict:
    """A record with the original's JSON names; empty fields left out as
    its omitempty tags leave them out."""
    out: dict[str, Any] = {"time": _go_time(record.created), "action": record.action}
    if record.base_sha:
        out["baseSHA"] = record.base_sha
    if record.targets:
        out["target"] = [
            {
                "number": t.get("number"),
                "author": t.get("author", ""),
                "sha": t.get("sha", ""),
                **{k: t[k] for k in ("title", "head_ref") if t.get(k)},
            }
            for t in record.targets
        ]
    if record.error:
        out["err"] = record.error
    out["tenantids"] = []
    return out


@require_safe
def tide_js(request):
    """GET /tide.js in the original's shape: Queries (the search strings of
    tide.queries), TideQueries (those queries as configured) and Pools (as
    Tide's last sync left them; hidden repositories left out)."""

    def build():
        queries = active_config().config.tide.queries
        return {
            "Queries": [query_text(q) for q in queries],
            "TideQueries": [query_fields(q) for q in queries],
            "Pools": [_pool_dict(pool) for pool in tide_views.pools()],
        }

    return _script(request, build)


@require_safe
def tide_history_js(request):
    """GET /tide-history.js: `{"History": {"org/repo:branch": [record, ...]}}`,
    each pool's newest records first, as many as the original keeps."""

    def build():
        by_pool = tide_views.recent_history_by_pool()
        return {
            "History": {
                key: [_record_dict(r) for r in records]
                for key, records in by_pool.items()
            }
        }

    return _script(request, build)
