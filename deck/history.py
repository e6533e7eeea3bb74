"""GET /job-history/<job name>: every run of one job, newest first.

The original lists builds from the log bucket, 20 a page; ours pages the
database by id (deck.queries.job_page), so an old page costs what the first
does. The summary and the chart describe the runs on the page shown.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from deck.badges import RESULT_STATES
from deck.compat import bad_request
from deck.queries import (
    FilterError,
    JobFilters,
    configured_jobs,
    filtered_jobs,
    job_page,
    parse_cursor,
)
from deck.templatetags.deck_tags import run_duration
from jobs.models import ProwJob, ProwJobState
from prow.config.active import active_config
from prow.config.schema import ProwConfig

PAGE_SIZE = 20
# Columns no history row shows; a page never needs them loaded.
HEAVY_COLUMNS = (
    "pod_spec",
    "decoration_config",
    "reporter_config",
    "rerun_auth_config",
    "labels",
    "annotations",
    "prev_report_states",
)

# Chart geometry, in SVG user units (pixels at 100% zoom).
BAR_WIDTH = 12
BAR_GAP = 4
CHART_HEIGHT = 72
MIN_BAR = 3


@dataclass
class Bar:
    job: ProwJob
    duration: timedelta | None
    x: int
    y: int
    height: int


@dataclass
class Summary:
    shown: int
    finished: int
    passed: int
    failed: int
    running: int
    median: timedelta | None

    @property
    def pass_rate(self) -> int | None:
        if not self.finished:
            return None
        return round(100 * self.passed / self.finished)


def summarize(runs: list[ProwJob]) -> Summary:
    results = [r for r in runs if r.state in RESULT_STATES and r.completion_time]
    durations = [r.completion_time - r.start_time for r in results]
    return Summary(
        shown=len(runs),
        finished=len(results),
        passed=sum(r.state == ProwJobState.SUCCESS for r in results),
        failed=sum(r.state != ProwJobState.SUCCESS for r in results),
        running=sum(r.state == ProwJobState.PENDING for r in runs),
        median=statistics.median(durations) if durations else None,
    )


def chart_bars(runs: list[ProwJob]) -> tuple[list[Bar], int, timedelta | None]:
    """Bars for runs (given newest first), oldest on the left, as tall as
    the run was long compared with the longest shown; a run without a
    duration yet gets a stub. Returns the bars, the chart's width and the
    longest duration (the top of the scale)."""
    now = timezone.now()
    durations = [run_duration(r, now) for r in reversed(runs)]
    longest = max((d for d in durations if d is not None), default=None)
    scale = longest.total_seconds() if longest else 0
    bars = []
    for index, (job, took) in enumerate(zip(reversed(runs), durations, strict=True)):
        height = MIN_BAR
        if took is not None and scale > 0:
            height = max(MIN_BAR, round(CHART_HEIGHT * took.total_seconds() / scale))
        bars.append(
            Bar(
                job=job,
                duration=took,
                x=index * (BAR_WIDTH + BAR_GAP),
                y=CHART_HEIGHT - height,
                height=height,
            )
        )
    width = max(len(bars) * (BAR_WIDTH + BAR_GAP) - BAR_GAP, 0)
    return bars, width, longest


def configured_job(config: ProwConfig, name: str):
    """(type, repository or "") of the configured job called name, if any."""
    return next(
        (
            (job_type, repo)
            for job_type, repo, job in configured_jobs(config)
            if job.name == name
        ),
        None,
    )


@require_safe
@vary_on_headers("HX-Request")
def job_history(request, name: str):
    active = active_config()
    filters = JobFilters(job=name)
    jobs = filtered_jobs(filters).defer(*HEAVY_COLUMNS)
    try:
        before = parse_cursor(request.GET.get("before"))
        after = parse_cursor(request.GET.get("after"))
        page = job_page(
            filters, before=before, after=after, limit=PAGE_SIZE, queryset=jobs
        )
    except FilterError as exc:
        return bad_request(str(exc))
    configured = configured_job(active.config, name)
    if not page.rows and before is None and after is None and configured is None:
        raise Http404(f"No job called {name} has run or is configured")
    job_type, repo = configured or ("", "")
    if configured is None and page.rows:
        newest = page.rows[0]
        job_type = newest.type
        repo = f"{newest.org}/{newest.repo}" if newest.org else ""
    bars, chart_width, longest = chart_bars(page.rows)
    now = timezone.now()
    context = {
        "name": name,
        "page": page,
        "rows": [(job, run_duration(job, now)) for job in page.rows],
        "show_author": any(job.author for job in page.rows),
        "job_type": job_type,
        "repo": repo,
        "configured": configured is not None,
        "summary": summarize(page.rows),
        "bars": bars,
        "chart_width": chart_width,
        "chart_height": CHART_HEIGHT + 1,  # room for the axis line
        "axis_y": CHART_HEIGHT + 0.5,
        "bar_width": BAR_WIDTH,
        "longest": longest,
        "link": active.config.github.link_url.rstrip("/"),
    }
    template = "deck/job_history.html"
    if request.htmx:
        template += "#history"
    return render(request, template, context)
