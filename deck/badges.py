"""GET /badge.svg?jobs=<glob>[,<glob>...]: a README badge with the latest
result of some jobs, drawn here rather than by an outside badge service.

A job's latest result is its newest run that ended in success, failure or
error. Unlike the original, a run still going (or aborted) does not hide
the result before it, so a badge does not turn green while a fix is only
being tested.
"""

from __future__ import annotations

import fnmatch

from django.db.models import Q, Subquery
from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.views.decorators.http import require_safe

from deck.compat import bad_request
from deck.queries import known_job_names, public_jobs
from jobs.models import ProwJob, ProwJobState

# A run's result: how it ended, if it ran to the end (history's summary and
# the PR page count the same states).
RESULT_STATES = (ProwJobState.SUCCESS, ProwJobState.FAILURE, ProwJobState.ERROR)
FAILED_STATES = {ProwJobState.FAILURE, ProwJobState.ERROR}
# Names shown on a failing badge before the rest become "...".
SHOWN_FAILURES = 3
# Job names one badge may cover: each costs an index probe and a subquery
# to compile, and a badge naming more could not say which ones fail.
MAX_BADGE_JOBS = 200
CACHE_SECONDS = 60

GREEN = "#4c1"
RED = "#e05d44"
GREY = "#9f9f9f"

_GLOB_CHARS = set("*?[")

# Rough advance widths of Verdana at 11px, enough to size the badge.
_NARROW = set("fijlrt.,:;'!|()[] ")
_WIDE = set("mwMW@%")


def text_width(text: str) -> int:
    width = 0.0
    for char in text:
        if char in _NARROW:
            width += 3.6
        elif char in _WIDE:
            width += 9.8
        elif char.isupper():
            width += 7.5
        else:
            width += 6.6
    return round(width)


def shield(subject: str, status: str, color: str) -> str:
    """A flat `[subject | status]` badge as SVG."""
    left = text_width(subject) + 12
    right = text_width(status) + 12
    total = left + right
    subject, status = escape(subject), escape(status)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20"'
        f' role="img" aria-label="{subject}: {status}">'
        f"<title>{subject}: {status}</title>"
        '<linearGradient id="s" x2="0" y2="100%">'
        '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3"'
        ' fill="#fff"/></clipPath>'
        '<g clip-path="url(#r)">'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{color}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle"'
        ' font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="15" fill="#010101" fill-opacity=".3">'
        f"{subject}</text>"
        f'<text x="{left / 2}" y="14">{subject}</text>'
        f'<text x="{left + right / 2}" y="15" fill="#010101" fill-opacity=".3">'
        f"{status}</text>"
        f'<text x="{left + right / 2}" y="14">{status}</text></g></svg>'
    )


def badge_status(latest: dict[str, str]) -> tuple[str, str]:
    """(status text, colour) for the latest state of each job name."""
    if not latest:
        return "no results", GREY
    failing = sorted(name for name, state in latest.items() if state in FAILED_STATES)
    if not failing:
        return "passing", GREEN
    if len(failing) > SHOWN_FAILURES:
        failing = [*failing[:SHOWN_FAILURES], "..."]
    return "failing " + ", ".join(failing), RED


def matching_names(patterns: list[str]) -> list[str]:
    """Job names matching any of the globs (`*`, `?`, `[...]`): the known
    names that match, and every pattern without a wildcard as it is."""
    found = {p for p in patterns if not _GLOB_CHARS.intersection(p)}
    if len(found) < len(patterns):
        globs = [p for p in patterns if p not in found]
        found.update(
            n
            for n in known_job_names()
            if any(fnmatch.fnmatchcase(n, g) for g in globs)
        )
    return sorted(found)


def latest_results(names: list[str]) -> dict[str, str]:
    """Job name -> state of its latest result, in one query: one scalar
    subquery per name, each an index probe on (job, -id) that stops at the
    first result, however long the job's history."""
    if not names:
        return {}
    runs = public_jobs().filter(state__in=RESULT_STATES)
    newest_first = runs.order_by("-id").values("id")
    condition = Q()
    for name in names:
        condition |= Q(id=Subquery(newest_first.filter(job=name)[:1]))
    return dict(ProwJob.objects.filter(condition).values_list("job", "state"))


@require_safe
def badge_svg(request):
    patterns = [p.strip() for p in request.GET.get("jobs", "").split(",")]
    patterns = [p for p in patterns if p]
    if not patterns:
        return bad_request("missing jobs query parameter")
    names = matching_names(patterns)
    if len(names) > MAX_BADGE_JOBS:
        return bad_request(
            f"jobs: matches {len(names)} jobs, more than {MAX_BADGE_JOBS}"
        )
    status, color = badge_status(latest_results(names))
    response = HttpResponse(
        shield("build", status, color), content_type="image/svg+xml"
    )
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    return response
