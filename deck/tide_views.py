"""Tide in Deck: /tide (the merge pools as the last sync left them),
/tide-history (what Tide did), and the reads the PR page, /tide.js and the
API share.

Tide writes its pools and history (tide.models); Deck only reads them.
Repositories in deck.hidden_repos are left out of every read here, as
their jobs are left out of the job list.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta

from django.db import connection
from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from deck.queries import (
    REPO_PATTERN,
    FilterError,
    JobFilters,
    Page,
    job_page,
    parse_cursor,
)
from prow.config.active import active_config
from prow.config.durations import parse_duration
from tide.models import Action, HistoryRecord, Pool, WrittenStatus
from tide.queries_text import query_text

HISTORY_PAGE_SIZE = 50
# The original keeps this many records per pool; /tide-history.js serves
# no more, however many the database still holds.
HISTORY_PER_POOL = 1000
# History records the PR page shows.
PULL_HISTORY = 10
# The page refreshes no faster than this, whatever the config says.
MIN_REFRESH_SECONDS = 1
DEFAULT_REFRESH_SECONDS = 10

_DIGITS = "0123456789"
_GROUPS = (
    ("success", "success_prs", "Passing, ready to merge"),
    ("pending", "pending_prs", "Tests running"),
    ("missing", "missing_prs", "Missing results"),
)


def visible(rows: QuerySet) -> QuerySet:
    """Pools or history records outside deck.hidden_repos."""
    for entry in active_config().config.deck.hidden_repos:
        org, _, repo = entry.partition("/")
        rows = rows.exclude(org=org, repo=repo) if repo else rows.exclude(org=org)
    return rows


def refresh_seconds() -> int:
    """deck.tide_update_period in whole seconds (10 when unreadable)."""
    text = active_config().config.deck.tide_update_period
    try:
        period = parse_duration(text) if text else timedelta(0)
    except ValueError:
        period = timedelta(0)
    if period <= timedelta(0):
        return DEFAULT_REFRESH_SECONDS
    return max(MIN_REFRESH_SECONDS, round(period.total_seconds()))


def _pull_number(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if len(value) > 9 or any(c not in _DIGITS for c in value):
        raise ValueError
    return int(value)


@dataclass(frozen=True)
class TideFilters:
    """What the Tide pages are narrowed to; empty means "any". `repo` is
    "org" or "org/repo", as on the job list."""

    repo: str = ""
    branch: str = ""
    action: str = ""
    pull: int | None = None
    author: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> TideFilters:
        values = {
            f.name: (params.get(f.name) or "").strip()
            for f in fields(cls)
            if f.name != "pull"
        }
        problems = []
        if values["repo"] and not REPO_PATTERN.match(values["repo"]):
            problems.append(("repo", "must look like org or org/repo"))
        if values["action"] and values["action"] not in Action.values:
            problems.append(("action", f"must be one of {', '.join(Action.values)}"))
        # PostgreSQL refuses NUL in a query, and no name has one.
        problems += [
            (name, "must not contain NUL")
            for name in ("branch", "author")
            if "\x00" in values[name]
        ]
        try:
            pull = _pull_number(params.get("pull") or "")
        except ValueError:
            problems.append(("pull", "must be a pull request number"))
            pull = None
        if problems:
            (name, message), *more = problems
            raise FilterError(name, message, more=more)
        return cls(**values, pull=pull)

    @classmethod
    def as_typed(cls, params: Mapping[str, str]) -> TideFilters:
        """The values as typed, for showing a refused form again."""
        return cls(**{f.name: (params.get(f.name) or "").strip() for f in fields(cls)})

    def as_query(self) -> dict[str, str]:
        return {
            f.name: str(getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) not in ("", None)
        }

    def narrow(self, rows: QuerySet) -> QuerySet:
        """Rows (pools or history) of the repository and branch asked for."""
        if self.repo:
            org, _, repo = self.repo.partition("/")
            rows = rows.filter(org=org)
            if repo:
                rows = rows.filter(repo=repo)
        if self.branch:
            rows = rows.filter(branch=self.branch)
        return rows


def pools(filters: TideFilters = TideFilters()) -> QuerySet[Pool]:
    return filters.narrow(visible(Pool.objects.all())).order_by("org", "repo", "branch")


def _targets_with(key: str, value) -> Q:
    """History records with a target whose `key` is `value`. PostgreSQL
    answers from the JSON itself; elsewhere (the SQLite of the zero-setup
    run) the stored text is searched."""
    if connection.features.supports_json_field_contains:
        return Q(targets__contains=[{key: value}])
    text = f'"{key}": {value}' if isinstance(value, int) else f'"{key}": "{value}"'
    return Q(targets__icontains=text + ",") | Q(targets__icontains=text + "}")


def history(filters: TideFilters = TideFilters()) -> QuerySet[HistoryRecord]:
    """Matching records, newest first. Newest by id: records are written
    as Tide acts, so ids follow time, and id is what pages are cut by."""
    rows = filters.narrow(visible(HistoryRecord.objects.all()))
    if filters.action:
        rows = rows.filter(action=filters.action)
    if filters.pull is not None:
        rows = rows.filter(_targets_with("number", filters.pull))
    if filters.author:
        rows = rows.filter(_targets_with("author", filters.author))
    return rows.order_by("-id")


def history_page(
    records: QuerySet[HistoryRecord],
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = HISTORY_PAGE_SIZE,
) -> Page:
    """One page of `records` (newest id first), cut by id as job pages are."""
    return job_page(
        JobFilters(), before=before, after=after, limit=limit, queryset=records
    )


def recent_history_by_pool() -> dict[str, list[HistoryRecord]]:
    """Every visible pool's newest HISTORY_PER_POOL records, newest first."""
    ranked = visible(HistoryRecord.objects.all()).annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("org"), F("repo"), F("branch")],
            order_by=F("id").desc(),
        )
    )
    by_pool: dict[str, list[HistoryRecord]] = {}
    rows = ranked.filter(rank__lte=HISTORY_PER_POOL).order_by(
        "org", "repo", "branch", "-id"
    )
    for record in rows:
        by_pool.setdefault(record.pool_key, []).append(record)
    return by_pool


def _link_base() -> str:
    return active_config().config.github.link_url.rstrip("/")


def job_link(job: Mapping) -> str:
    """Deck's page of a batch job (its stored url is the fallback)."""
    try:
        return reverse("deck:job-detail", args=[uuid.UUID(str(job.get("name")))])
    except ValueError:
        return job.get("url") or ""


def with_job_links(batches: list[dict]) -> list[dict]:
    return [
        {**batch, "jobs": [{**j, "link": job_link(j)} for j in batch.get("jobs", [])]}
        for batch in batches
    ]


@dataclass
class PoolView:
    """One pool as the page draws it."""

    pool: Pool
    groups: list[tuple[str, str, list[dict]]]
    repo_url: str
    batches: list[dict]

    @property
    def count(self) -> int:
        return sum(len(prs) for _, _, prs in self.groups)


def pool_view(pool: Pool, link: str) -> PoolView:
    return PoolView(
        pool=pool,
        groups=[(key, label, getattr(pool, column)) for key, column, label in _GROUPS],
        repo_url=f"{link}/{pool.org}/{pool.repo}",
        batches=with_job_links(pool.batches),
    )


def _filters_or_error(params) -> tuple[TideFilters, FilterError | None]:
    try:
        return TideFilters.from_query(params), None
    except FilterError as exc:
        return TideFilters.as_typed(params), exc


@require_safe
@vary_on_headers("HX-Request")
def tide(request):
    """The configured queries and every merge pool, refreshed in place every
    deck.tide_update_period."""
    config = active_config().config
    filters, error = _filters_or_error(request.GET)
    link = _link_base()
    rows = [] if error else [pool_view(p, link) for p in pools(filters)]
    context = {
        "queries": [query_text(q) for q in config.tide.queries],
        "pools": rows,
        "filters": filters,
        "query": filters.as_query(),
        "error": error,
        "problems": error.problems if error else [],
        "link": link,
        "refresh_seconds": refresh_seconds(),
    }
    template = "deck/tide.html"
    if request.htmx:
        template += "#pools"
    return render(request, template, context, status=400 if error else 200)


@require_safe
@vary_on_headers("HX-Request")
def tide_history(request):
    """What Tide did, newest first, 50 a page, filtered by pool, action,
    pull request and author."""
    filters, error = _filters_or_error(request.GET)
    page = Page([])
    if error is None:
        try:
            page = history_page(
                history(filters),
                before=parse_cursor(request.GET.get("before")),
                after=parse_cursor(request.GET.get("after")),
            )
        except FilterError as exc:
            error = exc
    query = filters.as_query()
    context = {
        "page": page,
        "filters": filters,
        "query": query,
        "error": error,
        "problems": error.problems if error else [],
        "actions": Action.values,
        "link": _link_base(),
        "refresh_seconds": refresh_seconds(),
        # Only the newest page grows while people watch it.
        "poll": error is None
        and "before" not in request.GET
        and "after" not in request.GET,
    }
    template = "deck/tide_history.html"
    if request.htmx:
        template += "#records"
    return render(request, template, context, status=400 if error else 200)


@dataclass
class PullTide:
    """What Tide knows of one pull request, for its page."""

    pool: Pool | None = None
    group: str = ""
    summary: dict | None = None
    batches: list[dict] | None = None
    status: WrittenStatus | None = None
    records: list[HistoryRecord] | None = None

    @property
    def reason(self) -> str:
        if self.summary and self.summary.get("reason"):
            return self.summary["reason"]
        return self.status.description if self.status else ""


def pull_tide(org: str, repo: str, number: int) -> PullTide | None:
    """The pool holding the pull request (with its group and summary), the
    batches it is in, the `tide` status last written on it and its newest
    history records; None when the repository is hidden."""
    if _hidden(org, repo):
        return None
    found = PullTide()
    for pool in Pool.objects.filter(org=org, repo=repo).order_by("branch"):
        for key, column, _ in _GROUPS:
            summary = next(
                (p for p in getattr(pool, column) if p.get("number") == number), None
            )
            if summary is not None:
                found.pool, found.group, found.summary = pool, key, summary
                break
        batches = [
            b
            for b in pool.batches
            if any(p.get("number") == number for p in b.get("pulls", []))
        ]
        if batches:
            found.pool = found.pool or pool
            found.batches = with_job_links(batches)
        if found.pool is not None:
            break
    found.status = WrittenStatus.objects.filter(
        org=org, repo=repo, number=number
    ).first()
    found.records = list(
        HistoryRecord.objects.filter(org=org, repo=repo)
        .filter(_targets_with("number", number))
        .order_by("-id")[:PULL_HISTORY]
    )
    return found


def _hidden(org: str, repo: str) -> bool:
    hidden = active_config().config.deck.hidden_repos
    return org in hidden or f"{org}/{repo}" in hidden
