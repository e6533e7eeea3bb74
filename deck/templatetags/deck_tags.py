"""Small pieces every Deck page draws the same way."""

from datetime import timedelta
from urllib.parse import urlencode

from django import template
from django.utils import timezone
from django.utils.html import format_html

from jobs.models import ProwJobState

register = template.Library()

_ICONS = {
    ProwJobState.SUCCESS: "passed",
    ProwJobState.FAILURE: "failed",
    ProwJobState.ERROR: "error",
    ProwJobState.ABORTED: "aborted",
    ProwJobState.PENDING: "running",
    ProwJobState.TRIGGERED: "queued",
}


@register.simple_tag
def state(value: str):
    """A job state as a coloured dot and a word (colour is never the only
    sign: the word is there for those who can't tell the colours apart)."""
    return format_html(
        '<span class="state state-{}" title="{}">{}</span>',
        value,
        value,
        _ICONS.get(value, value),
    )


@register.simple_tag
def query_with(query: dict, **changes) -> str:
    """The page's filters with some changed, as a query string. Cursors are
    dropped unless given: a new filter starts from the newest job."""
    params = {k: v for k, v in query.items() if k not in ("before", "after")}
    for key, value in changes.items():
        if value in ("", None):
            params.pop(key, None)
        else:
            params[key] = value
    return urlencode(params)


def format_duration(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"


def run_duration(job, now=None) -> timedelta | None:
    """How long a run took, or has been running; None before its pod."""
    if job.completion_time is not None:
        return job.completion_time - job.start_time
    if job.state == ProwJobState.PENDING:
        return (now or timezone.now()) - job.start_time
    return None


@register.simple_tag
def duration(job) -> str:
    """How long the job ran, or has been running."""
    return format_duration(run_duration(job))


register.filter("format_duration", format_duration)


@register.simple_tag
def revision(job, link: str):
    """The PR number (with its head commit) or the base commit, linked."""
    repo_url = f"{link}/{job.org}/{job.repo}"
    if job.pull_number:
        sha = job.pull_sha[:7]
        return format_html(
            '<a href="{}/pull/{}">#{}</a> '
            '<a class="mono muted" href="{}/commit/{}">{}</a>',
            repo_url,
            job.pull_number,
            job.pull_number,
            repo_url,
            job.pull_sha,
            sha,
        )
    base_sha = job.base_sha
    if job.org and base_sha:
        return format_html(
            '{} <a class="mono muted" href="{}/commit/{}">{}</a>',
            job.base_ref,
            repo_url,
            base_sha,
            base_sha[:7],
        )
    return job.base_ref or ""
