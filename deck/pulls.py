"""GET /pr/<org>/<repo>/<number>: every job of one pull request.

At the top the newest run of each status context, which is what the
pull request's checks show; below, all runs grouped by the head commit they
tested, newest commit first (the original's /pr-history, read from the
database instead of the log bucket).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from deck.badges import FAILED_STATES
from deck.history import HEAVY_COLUMNS
from deck.queries import public_jobs
from deck.templatetags.deck_tags import run_duration
from deck.tide_views import pull_tide
from jobs.models import ProwJob, ProwJobState
from prow.config.active import active_config

# Runs a page shows; a pull request with more (a long-lived one retested
# for months) shows its newest.
MAX_RUNS = 500


@dataclass
class Row:
    job: ProwJob
    duration: timedelta | None
    on_head: bool = True


@dataclass
class Commit:
    sha: str
    rows: list[Row] = field(default_factory=list)

    @property
    def started(self):
        return self.rows[-1].job.start_time


def pull_runs(org: str, repo: str, number: int) -> list[ProwJob]:
    """The newest MAX_RUNS + 1 runs of the pull request, newest first (one
    more than shown tells the page there are others)."""
    jobs = public_jobs().filter(org=org, repo=repo, pull_number=number)
    return list(jobs.defer(*HEAVY_COLUMNS).order_by("-id")[: MAX_RUNS + 1])


def latest_per_context(runs: list[ProwJob], head: str) -> list[Row]:
    """The newest run of each context (of each job, for jobs without one),
    sorted by context as GitHub lists checks."""
    now = timezone.now()
    latest: dict[str, ProwJob] = {}
    for job in runs:  # newest first, so the first seen is the latest
        latest.setdefault(job.context or job.job, job)
    return [
        Row(job, run_duration(job, now), on_head=job.pull_sha == head)
        for _, job in sorted(latest.items())
    ]


def by_commit(runs: list[ProwJob]) -> list[Commit]:
    now = timezone.now()
    commits: dict[str, Commit] = {}
    for job in runs:
        commit = commits.setdefault(job.pull_sha, Commit(job.pull_sha))
        commit.rows.append(Row(job, run_duration(job, now)))
    return list(commits.values())


def _pull_details(job: ProwJob | None, number: int) -> dict:
    """Title and author as the newest job's refs recorded them."""
    if job is None:
        return {}
    return next((p for p in job.pulls if p.get("number") == number), {})


@require_safe
def pull(request, org: str, repo: str, number: int):
    runs = pull_runs(org, repo, number)
    truncated = len(runs) > MAX_RUNS
    runs = runs[:MAX_RUNS]
    head = runs[0].pull_sha if runs else ""
    latest = latest_per_context(runs, head)
    counts = {
        "passing": sum(r.job.state == ProwJobState.SUCCESS for r in latest),
        "failing": sum(r.job.state in FAILED_STATES for r in latest),
        "running": sum(
            r.job.state in (ProwJobState.PENDING, ProwJobState.TRIGGERED)
            for r in latest
        ),
    }
    link = active_config().config.github.link_url.rstrip("/")
    context = {
        "org": org,
        "repo": repo,
        "number": number,
        "pr": _pull_details(runs[0] if runs else None, number),
        "head": head,
        "latest": latest,
        "counts": counts,
        "commits": by_commit(runs),
        "truncated": truncated,
        "max_runs": MAX_RUNS,
        "link": link,
        "repo_url": f"{link}/{org}/{repo}",
        # What Tide knows: its pool, what it waits for, batches, history.
        "tide": pull_tide(org, repo, number),
    }
    return render(request, "deck/pull.html", context)
