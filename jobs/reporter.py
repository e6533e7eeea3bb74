"""Reporting ProwJobs to GitHub: the original's crier, GitHub reporter only.

Every state change of a reportable job becomes one commit status; a finished
presubmit also updates the pull request's test-report comment (one table of
failed jobs, kept by the bot). Each state is reported at most once: the state
sent is recorded in `prev_report_states["github-reporter"]`, and a job whose
recorded state equals its current one is left alone. Callers (a Celery task)
retry on a GitHubError with permanent=False; nothing is recorded then, so the
retry reports again.
"""

import logging
from dataclasses import dataclass

from django.db import transaction

from jobs.labels import GERRIT_REPORT_LABEL, IS_OPTIONAL_LABEL, REPORTER_NAME
from jobs.models import ProwJob, ProwJobState, ProwJobType
from prow.config.active import active_config
from prow.config.schema import ProwConfig
from prow.github.bot import ABOUT_BOT
from prow.github.client import GitHubClient, GitHubError, github_client
from prow.locks import session_lock

logger = logging.getLogger(__name__)

COMMENT_TAG = "<!-- test report -->"

STATUS_DESCRIPTION_MAX = 140
BASE_SHA_DELIMITER = " BaseSHA:"
_ELIDE = " ... "
# Looks like a space but is U+2001 (EM QUAD): GitHub's page collapses runs
# of ordinary spaces, and the padding is there to push the base SHA to the
# same place on the right of every status.
_PAD = "\u2001"

_GITHUB_STATES = {
    ProwJobState.TRIGGERED: "pending",
    ProwJobState.PENDING: "pending",
    ProwJobState.SUCCESS: "success",
    ProwJobState.FAILURE: "failure",
    ProwJobState.ABORTED: "failure",
    ProwJobState.ERROR: "error",
}
# Only these types ever reach GitHub, whatever job_types_to_report says:
# periodics have no commit to mark and batches have several.
_GITHUB_TYPES = frozenset({ProwJobType.PRESUBMIT, ProwJobType.POSTSUBMIT})

# Status errors that retrying cannot fix: the status limit of a SHA and
# context, and a commit that a force-push made unreachable.
_STATUS_ERRORS_TO_SWALLOW = (
    "maximum number of statuses",
    "Not Found",
    "No commit found for SHA",
)

ABOUT_THIS_BOT = (
    f"{ABOUT_BOT} I understand the commands that are listed "
    "[here](https://go.k8s.io/bot-commands)."
)
_FAILED_HEADER = (
    "@{author}: The following test{plural} **failed**, say `/retest` to rerun "
    "all failed tests or `/retest-required` to rerun all mandatory failed tests:"
)
_TABLE_HEADER = (
    "Test name | Commit | Details | Required | Rerun command",
    "--- | --- | --- | --- | ---",
)


# Status ----------------------------------------------------------------------


def _truncate(text: str, limit: int) -> str:
    """Middle-elide text longer than limit: "really ... messages"."""
    if len(text) <= limit:
        return text
    half = max((limit - len(_ELIDE)) // 2, 0)
    return text[:half] + _ELIDE + text[len(text) - half :]


def status_description(description: str, base_sha: str) -> str:
    """The status description: the job's text, padded and suffixed with
    ` BaseSHA:<sha>` to exactly 140 characters, so Tide can tell which base a
    result was tested against. Longer text is elided in the middle."""
    if not base_sha:
        return _truncate(description, STATUS_DESCRIPTION_MAX)
    suffix = BASE_SHA_DELIMITER + base_sha
    room = STATUS_DESCRIPTION_MAX - len(suffix)
    text = _truncate(description, room)
    return text + _PAD * (room - len(text)) + suffix


def base_sha_from_description(description: str) -> str:
    """The base SHA a status_description carries, or "" if none."""
    parts = description.split(BASE_SHA_DELIMITER)
    if len(parts) == 2 and len(parts[1]) == 40:
        return parts[1]
    return ""


def _reportable(job: ProwJob, config: ProwConfig) -> bool:
    """Whether job is ever reported to GitHub (its spec decides)."""
    if not job.report or job.labels.get(GERRIT_REPORT_LABEL):
        return False
    if job.type not in _GITHUB_TYPES:
        return False
    if job.type not in config.github_reporter.job_types_to_report:
        return False
    return bool(job.refs) and len(job.pulls) <= 1


def _reported_already(job: ProwJob) -> bool:
    return job.prev_report_states.get(REPORTER_NAME) == job.state


def _send_status(job: ProwJob, github: GitHubClient) -> bool:
    """Post the job's status; False when GitHub refused it for good in a way
    that retrying cannot change (then nothing more is reported)."""
    refs = job.refs
    pulls = job.pulls
    sha = pulls[0]["sha"] if pulls else job.base_sha
    try:
        github.create_status(
            refs["org"],
            refs["repo"],
            sha,
            state=_GITHUB_STATES[job.state],
            context=job.context,
            description=status_description(job.description, job.base_sha),
            target_url=job.url,
        )
    except GitHubError as exc:
        message = str(exc)
        if exc.status == 404 or any(s in message for s in _STATUS_ERRORS_TO_SWALLOW):
            logger.info("status of %s not reported, skipped: %s", job.name, message)
            return False
        raise
    return True


# Failure comment -------------------------------------------------------------


def _in_repos(org: str, repo: str, idents: list[str]) -> bool:
    return org in idents or f"{org}/{repo}" in idents


def _parse_bool(value: str) -> bool | None:
    # The values Go's strconv.ParseBool accepts, which the label came from.
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    return None


def _entry(job: ProwJob) -> str:
    required = "unknown"
    if job.type == ProwJobType.PRESUBMIT:
        optional = _parse_bool(job.labels.get(IS_OPTIONAL_LABEL, ""))
        if optional is not None:
            required = "false" if optional else "true"
    return " | ".join(
        (
            job.context,
            job.pulls[0]["sha"],
            f"[link]({job.url})",
            required,
            f"`{job.rerun_command}`",
        )
    )


@dataclass
class _CommentPlan:
    delete: list[int]
    entries: list[str]
    update_id: int | None


def _plan_comment(jobs: list[ProwJob], is_bot, comments) -> _CommentPlan:
    """Which report comments to delete, the table rows the report should
    have, and the comment to edit in place (None: create a new one)."""
    previous: list[int] = []
    latest: int | None = None
    entries: list[str] = []
    for comment in comments:
        body = comment.body
        if not is_bot(comment.user) or COMMENT_TAG not in body:
            continue
        if latest is not None:
            previous.append(latest)
        latest = comment.id
        tracking = False
        for line in body.split("\n"):
            line = line.strip()
            if line.startswith("---"):
                tracking = True
            elif not line:
                tracking = False
            elif tracking:
                entries.append(line)

    reported = {job.context for job in jobs}
    kept = []
    for i, entry in enumerate(entries):
        context = entry.split(" | ")[0]
        newer = any(e.split(" | ")[0] == context for e in entries[i + 1 :])
        if not newer and context not in reported:
            kept.append(entry)
    failed = [job for job in jobs if job.state == ProwJobState.FAILURE]
    kept += [_entry(job) for job in failed]

    delete = previous
    # A new failure gets a fresh comment (a notification); a report with no
    # rows left has nothing to say.
    if (failed or not kept) and latest is not None:
        delete.append(latest)
        latest = None
    return _CommentPlan(delete, kept, latest)


def _report_template(job: ProwJob, config: ProwConfig) -> str:
    """The plank.report_templates text for the job's repo.

    These are Go templates over the ProwJob; only ones without template
    actions are used (as they are), the rest are left out with a warning.
    """
    templates = dict(config.plank.report_templates)
    if not templates and config.plank.report_template:
        templates["*"] = config.plank.report_template
    for key in (f"{job.org}/{job.repo}", job.org, "*"):
        if key in templates:
            text = templates[key]
            if "{{" in text:
                logger.warning(
                    "report template for %s uses Go template actions, which are "
                    "not rendered; left out of the comment",
                    key,
                )
                return ""
            return text
    return ""


def comment_body(jobs: list[ProwJob], entries: list[str], template: str = "") -> str:
    """The test-report comment (the original's exact text)."""
    author = jobs[0].pulls[0].get("author", "")
    if entries:
        plural = "s" if len(entries) > 1 else ""
        lines = [_FAILED_HEADER.format(author=author, plural=plural), ""]
        lines += _TABLE_HEADER
    else:
        lines = [f"@{author}: all tests **passed!**", ""]
    lines += entries
    if template:
        lines += ["", template]
    lines += ["", "<details>", "", ABOUT_THIS_BOT, "</details>", COMMENT_TAG]
    return "\n".join(lines)


def _report_comment(
    jobs: list[ProwJob],
    github: GitHubClient,
    config: ProwConfig,
    *,
    must_create: bool,
) -> None:
    """Bring the pull request's test-report comment up to date with jobs (all
    of one pull request). Call with the pull request's lock held."""
    types = config.github_reporter.job_types_to_report
    jobs = [j for j in jobs if j.report and j.type in types and j.is_complete()]
    if not jobs:
        return
    first = jobs[0]
    org, repo = first.refs["org"], first.refs["repo"]
    number = first.pulls[0]["number"]
    comments = github.list_comments(org, repo, number)
    plan = _plan_comment(jobs, github.is_bot, comments)
    for comment_id in plan.delete:
        github.delete_comment(org, repo, comment_id)
    # A push aborts running jobs: that is no reason to say everything passed.
    aborted = any(job.state == ProwJobState.ABORTED for job in jobs)
    if not plan.entries and not (must_create and not aborted):
        return
    body = comment_body(jobs, plan.entries, _report_template(first, config))
    if plan.update_id is None:
        github.create_comment(org, repo, number, body)
    else:
        github.edit_comment(org, repo, plan.update_id, body)


def _summary_jobs(job: ProwJob) -> list[ProwJob]:
    """The latest run of every reported job of job's pull request, or nothing
    while any of its jobs is still running."""
    latest: dict[str, ProwJob] = {}
    runs = ProwJob.objects.filter(
        type=ProwJobType.PRESUBMIT,
        org=job.org,
        repo=job.repo,
        pull_number=job.pull_number,
    ).order_by("start_time", "pk")
    for run in runs:
        if not run.is_complete():
            return []
        if run.report:
            latest[run.job] = run
    return list(latest.values())


def _comment(job: ProwJob, github: GitHubClient, config: ProwConfig) -> None:
    if job.type != ProwJobType.PRESUBMIT or len(job.pulls) != 1:
        return
    if not job.is_complete():
        return
    reporter = config.github_reporter
    if _in_repos(job.org, job.repo, reporter.no_comment_repos):
        return
    # Two workers reporting two jobs of one pull request would otherwise both
    # read the old comment and each write a report missing the other's row.
    with session_lock(f"reporter:{job.org}/{job.repo}#{job.pulls[0]['number']}"):
        if _in_repos(job.org, job.repo, reporter.summary_comment_repos):
            _report_comment(_summary_jobs(job), github, config, must_create=True)
        else:
            _report_comment([job], github, config, must_create=False)


# Locks and bookkeeping -------------------------------------------------------


@transaction.atomic
def _record(job: ProwJob, state: str) -> bool:
    """Remember that state was reported, unless the job moved on meanwhile
    (its new state still needs reporting)."""
    current = (
        ProwJob.objects.select_for_update()
        .filter(pk=job.pk, state=state)
        .values_list("prev_report_states", flat=True)
        .first()
    )
    if current is None:
        return False
    states = {**(current or {}), REPORTER_NAME: state}
    updated = ProwJob.objects.filter(pk=job.pk, state=state).update(
        prev_report_states=states
    )
    if updated:
        job.prev_report_states = states
    return bool(updated)


# Entry point -----------------------------------------------------------------


def report_job(
    job: ProwJob,
    *,
    github: GitHubClient | None = None,
    config: ProwConfig | None = None,
) -> bool:
    """Report job's current state to GitHub if it should be; return whether
    anything was sent.

    Raises GitHubError when GitHub failed; with permanent=False the caller
    should retry later. job is re-read from the database first, so a stale
    copy (a duplicate or late message) cannot report a state twice.
    """
    if config is None:
        config = active_config().config
    if not _reportable(job, config):
        return False
    # One report of a job at a time: a duplicate message waits here, then
    # finds the state recorded and sends nothing. A session lock, so that no
    # transaction stays open while GitHub answers.
    with session_lock(f"reporter:prowjob-report:{job.pk}"):
        try:
            job.refresh_from_db()
        except ProwJob.DoesNotExist:
            return False  # removed by sinker; nothing left to report
        if _reported_already(job):
            return False
        if github is None:
            github = github_client(job.refs["org"])
        state = job.state
        sent = _send_status(job, github)
        if sent:
            try:
                _comment(job, github, config)
            except GitHubError as exc:
                if not exc.permanent:
                    raise
                # The status is out and no retry can fix this (pull request
                # gone, conversation locked...); do not post the status again.
                logger.error(
                    "test report comment for %s not updated: %s", job.name, exc
                )
        _record(job, state)
        return sent
