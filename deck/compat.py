"""The original Deck's JSON endpoints, for the scripts and tools that read
them: /prowjobs.js, /tide.js and /tide-history.js.

The original serves /prowjobs.js from a copy of every ProwJob in the
cluster; ours reads the database, so the list is capped (the newest
DEFAULT_LIMIT by default) and narrowed in SQL, never in Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django.db.models import F, Func, IntegerField
from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from deck.queries import FilterError, JobFilters, filtered_jobs
from jobs.models import SPEC_COLUMNS
from jobs.serialization import OMITTABLE, prowjob_to_dict
from prow.config.active import active_config

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


def _script(request, payload: Any) -> HttpResponse:
    try:
        var = script_var(request.GET)
    except FilterError as exc:
        return bad_request(str(exc))
    return script_response(payload, var)


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
    return script_response({"items": items}, var)


@require_safe
def tide_js(request):
    """GET /tide.js in the original's shape. Tide fills Queries (its search
    strings), TideQueries (the configured queries) and Pools once it runs
    here; until then they are empty, so the original's pages still load."""
    return _script(request, {"Queries": [], "TideQueries": [], "Pools": []})


@require_safe
def tide_history_js(request):
    """GET /tide-history.js: `{"History": {pool: [record, ...]}}`, empty
    until Tide keeps a history here."""
    return _script(request, {"History": {}})
