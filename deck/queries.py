"""The job list's filters and keyset pages, shared by Deck's pages, the
REST API and /prowjobs.js.

Pages are cut by primary key (`id < cursor`), never by OFFSET, so page 50 of
a million rows costs what page 1 does: one index range scan of `limit + 1`
rows. Every filter is an equality on an indexed column; the text search on
job names is first resolved against the small set of known job names, so it
too becomes an equality (`job IN (...)`) instead of a scan of every row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet

from jobs.models import ProwJob, ProwJobState, ProwJobType
from prow.config.active import active_config
from prow.config.schema import ProwConfig

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# How many job names a text search may expand to before it is refused as
# too broad to be useful (the list would be unfiltered anyway).
MAX_SEARCH_NAMES = 500

# New job names are rare; a search may miss one for this long.
_NAMES_CACHE_SECONDS = 30
_NAMES_CACHE_KEY = "deck:job-names"

_DIGITS = re.compile(r"^[0-9]+$")  # str.isdigit() also takes "²"
REPO_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$")


class FilterError(ValueError):
    """Filter values that cannot mean anything (bad state, bad number).
    `name` and `message` are the first; `problems` lists every one, so a
    person fixes them all at once."""

    def __init__(self, name: str, message: str, *, more=()):
        self.problems = [(name, message), *more]
        super().__init__("; ".join(f"{n}: {m}" for n, m in self.problems))
        self.name = name
        self.message = message


@dataclass(frozen=True)
class JobFilters:
    """What the job list is narrowed to. Empty strings mean "any"."""

    type: str = ""
    repo: str = ""  # "org" or "org/repo"
    job: str = ""  # exact job name
    state: str = ""
    author: str = ""
    pull: int | None = None
    q: str = ""  # part of a job name, case-insensitive

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> JobFilters:
        """Read filters from GET parameters; raises FilterError on nonsense
        so the page can say which field is wrong."""
        values = {
            name: (params.get(name) or "").strip()
            for name in ("type", "repo", "job", "state", "author", "pull", "q")
        }
        problems = []
        if values["type"] and values["type"] not in ProwJobType.values:
            problems.append(("type", f"must be one of {', '.join(ProwJobType.values)}"))
        if values["state"] and values["state"] not in ProwJobState.values:
            problems.append(
                ("state", f"must be one of {', '.join(ProwJobState.values)}")
            )
        if values["repo"] and not REPO_PATTERN.match(values["repo"]):
            problems.append(("repo", "must look like org or org/repo"))
        pull = None
        if values["pull"]:
            if not _DIGITS.match(values["pull"]) or len(values["pull"]) > 9:
                problems.append(("pull", "must be a pull request number"))
            else:
                pull = int(values["pull"])
        if problems:
            (name, message), *more = problems
            raise FilterError(name, message, more=more)
        values["pull"] = pull
        return cls(**values)

    @classmethod
    def as_typed(cls, params: Mapping[str, str]) -> JobFilters:
        """The values as typed, valid or not: for showing a refused form
        again. Never used to filter."""
        return cls(**{f.name: (params.get(f.name) or "").strip() for f in fields(cls)})

    def as_query(self) -> dict[str, str]:
        """The filters as GET parameters (only the ones set)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in ("", None):
                out[f.name] = str(value)
        return out

    @property
    def org_repo(self) -> tuple[str, str]:
        org, _, repo = self.repo.partition("/")
        return org, repo

    def is_empty(self) -> bool:
        return not self.as_query()


@dataclass
class Page:
    rows: list[ProwJob]
    # Cursors for the neighbouring pages: None where there is none.
    older: int | None = None
    newer: int | None = None


def configured_jobs(config: ProwConfig) -> Iterator[tuple[str, str, object]]:
    """(type, "org/repo" or "" for periodics, job) of every job the config
    defines: presubmits, then postsubmits, then periodics."""
    for repo, jobs in config.presubmits.items():
        for job in jobs:
            yield ProwJobType.PRESUBMIT, repo, job
    for repo, jobs in config.postsubmits.items():
        for job in jobs:
            yield ProwJobType.POSTSUBMIT, repo, job
    for job in config.periodics:
        yield ProwJobType.PERIODIC, "", job


def known_job_names() -> list[str]:
    """Every job name that has run or is configured.

    The distinct names of a million rows come from a skip scan of the
    (job, -id) index: one probe per name, not a pass over every row.
    """
    names = cache.get(_NAMES_CACHE_KEY)
    if names is None:
        names = _distinct_job_names()
        cache.set(_NAMES_CACHE_KEY, names, _NAMES_CACHE_SECONDS)
    configured = {job.name for _, _, job in configured_jobs(active_config().config)}
    return sorted(set(names) | configured)


def forget_job_names() -> None:
    cache.delete(_NAMES_CACHE_KEY)


def _distinct_job_names() -> list[str]:
    table = ProwJob._meta.db_table
    if connection.vendor != "postgresql":
        return list(ProwJob.objects.values_list("job", flat=True).distinct())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE names(job) AS (
                (SELECT job FROM {table} ORDER BY job LIMIT 1)
                UNION ALL
                SELECT (SELECT job FROM {table} WHERE job > names.job
                        ORDER BY job LIMIT 1)
                FROM names WHERE names.job IS NOT NULL
            )
            SELECT job FROM names WHERE job IS NOT NULL
            """
        )
        return [row[0] for row in cursor.fetchall()]


def search_job_names(text: str) -> list[str]:
    text = text.lower()
    return [name for name in known_job_names() if text in name.lower()]


def public_jobs() -> QuerySet[ProwJob]:
    """Every job Deck shows: not `hidden: true`, not in deck.hidden_repos."""
    jobs = ProwJob.objects.filter(hidden=False)
    for entry in active_config().config.deck.hidden_repos:
        org, _, repo = entry.partition("/")
        jobs = jobs.exclude(org=org, repo=repo) if repo else jobs.exclude(org=org)
    return jobs


def filtered_jobs(filters: JobFilters) -> QuerySet[ProwJob]:
    """Jobs matching filters, newest first (not yet cut into a page)."""
    if filters.type in (ProwJobType.PERIODIC, ProwJobType.POSTSUBMIT) and (
        filters.author or filters.pull is not None
    ):
        return ProwJob.objects.none()  # only pull request jobs have those
    jobs = public_jobs()
    if filters.type:
        jobs = jobs.filter(type=filters.type)
    if filters.repo:
        org, repo = filters.org_repo
        jobs = jobs.filter(org=org)
        if repo:
            jobs = jobs.filter(repo=repo)
    if filters.job:
        jobs = jobs.filter(job=filters.job)
    if filters.state:
        jobs = jobs.filter(state=filters.state)
    if filters.author:
        jobs = jobs.filter(author=filters.author)
    if filters.pull is not None:
        jobs = jobs.filter(pull_number=filters.pull)
    if filters.q:
        names = search_job_names(filters.q)[:MAX_SEARCH_NAMES]
        jobs = jobs.filter(job__in=names) if names else jobs.none()
    return jobs.order_by("-id")


def job_page(
    filters: JobFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
    queryset: QuerySet[ProwJob] | None = None,
) -> Page:
    """One page of the list: the `limit` newest jobs older than `before`, or
    the `limit` oldest jobs newer than `after` (going back towards the top).
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    jobs = queryset if queryset is not None else filtered_jobs(filters)
    if filters.is_empty() or jobs.query.is_empty():
        return _cut(jobs, before, after, limit)
    # Filters that together match nothing (or almost nothing) in a big
    # table can make PostgreSQL walk all of it, newest first, hoping for a
    # match; such a page is refused with advice instead of tying up the
    # database.
    try:
        with transaction.atomic(), _statement_timeout(settings.PROW_DECK_QUERY_MS):
            return _cut(jobs, before, after, limit)
    except OperationalError as exc:
        if not _was_cancelled(exc):
            raise
        raise FilterError(
            "filters",
            "this combination takes too long to search; narrow it with a "
            "repository, a job name or a pull request",
        ) from exc


@contextmanager
def _statement_timeout(milliseconds: int):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [int(milliseconds)])
    yield


def _was_cancelled(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", "") == "57014"  # query_canceled


def _cut(jobs, before, after, limit) -> Page:
    if after is not None:
        rows = list(jobs.filter(id__gt=after).order_by("id")[: limit + 1])
        has_newer = len(rows) > limit
        rows = rows[:limit][::-1]
        older = rows[-1].id if rows else after + 1
        return Page(rows, older=older, newer=rows[0].id if has_newer else None)
    if before is not None:
        jobs = jobs.filter(id__lt=before)
    rows = list(jobs[: limit + 1])
    has_older = len(rows) > limit
    rows = rows[:limit]
    newer = rows[0].id if (before is not None and rows) else None
    return Page(rows, older=rows[-1].id if has_older else None, newer=newer)


def parse_cursor(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not _DIGITS.match(value) or len(value) > 18:
        raise FilterError("cursor", "must be a job id")
    return int(value)
