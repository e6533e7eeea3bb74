"""skip: `/skip` on an open pull request marks the stale statuses of jobs
that do not block merging as passed ("Skipped"), so they stop showing red.

A context is skipped when its job is not required (optional or
skip_report), does not always run, has reported on the head commit without
passing, and is not about to run again because of the same comment (a
`/skip` next to `/test that-job` runs it instead). Required contexts are
never skipped, and nothing is when every context already passes.
"""

import re

from hook.events import GENERIC_COMMENT, GenericComment
from hook.plugins.base import Command, Plugin, PluginContext
from hook.plugins.trigger import OK_TO_TEST_COMMAND, RETEST, TEST_ALL
from jobs import matching
from jobs.inrepo import InRepoConfigError, presubmits_for
from jobs.presubmits import pull_changes
from jobs.trust import trusted_pull_request
from prow.config.plugins_schema import TRIGGERS
from prow.config.regex import compile_go_regex
from prow.config.schema import Presubmit
from prow.github.types import CombinedStatus, PullRequest

SKIP = re.compile(r"(?mi)^/skip\s*$")
DESCRIPTION = "Skipped"


def _presubmits(ctx: PluginContext, pull: PullRequest) -> list[Presubmit]:
    static = ctx.config.presubmits_for(ctx.org, ctx.repo)
    if not ctx.config.in_repo_config.enabled_for(ctx.org, ctx.repo):
        return static
    settings = ctx.plugins.section(TRIGGERS.key, ctx.org, ctx.repo)
    if not trusted_pull_request(
        ctx.github, pull.author, ctx.org, ctx.repo, pull.labels, settings
    ):
        # Anyone may say /skip; an untrusted author's own config is not read
        # for it (its optional jobs could claim a required job's context).
        return static
    try:
        return presubmits_for(ctx.github, ctx.config, ctx.org, ctx.repo, pull.head_sha)
    except InRepoConfigError as exc:
        # The trigger plugin tells the author; the central jobs still count.
        ctx.logger.warning("in-repo jobs of %s/%s: %s", ctx.org, ctx.repo, exc)
        return static


def rerun_by(
    text: str,
    jobs: list[Presubmit],
    pull: PullRequest,
    status: CombinedStatus,
    changes: matching.ChangesProvider,
) -> set[str]:
    """Names of the jobs this comment's other commands start, read as the
    trigger plugin reads them."""
    branch = pull.base_ref
    names = {
        job.name
        for job in jobs
        if matching.branch_matches(job, branch)
        and compile_go_regex(job.effective_trigger).search(text)
    }
    if RETEST.search(text):
        failed = {s.context for s in status.statuses if s.state in ("failure", "error")}
        names |= {job.name for job in jobs if job.effective_context in failed}
    if TEST_ALL.search(text) or OK_TO_TEST_COMMAND.search(text):
        names |= {j.name for j in matching.test_all_presubmits(jobs, branch, changes)}
    return names


def to_skip(
    text: str,
    jobs: list[Presubmit],
    pull: PullRequest,
    status: CombinedStatus,
    changes: matching.ChangesProvider,
) -> list[str]:
    """The contexts /skip marks as passed, in the jobs' order."""
    if status.state == "success":
        return []
    states = {s.context: s.state for s in status.statuses}
    rerun = rerun_by(text, jobs, pull, status, changes)
    contexts: list[str] = []
    for job in jobs:
        context = job.effective_context
        state = states.get(context)
        if (
            state is None
            or state == "success"
            or matching.is_required(job)
            or job.always_run
            or job.name in rerun
            or context in contexts
        ):
            continue
        contexts.append(context)
    return contexts


def handle_comment(ctx: PluginContext, comment: GenericComment) -> None:
    if (
        comment.action != "created"
        or not comment.is_pr
        or comment.issue_state != "open"
        # Several /skip lines in one comment are one request.
        or not SKIP.search(comment.command_text)
    ):
        return
    pull = ctx.github.get_pull(comment.org, comment.repo, comment.number)
    if pull.state != "open":
        return
    status = ctx.github.combined_status(ctx.org, ctx.repo, pull.head_sha)
    if status.state == "success":
        return
    jobs = _presubmits(ctx, pull)
    contexts = to_skip(
        comment.command_text,
        jobs,
        pull,
        status,
        lambda: pull_changes(ctx.github, pull),
    )
    for context in contexts:
        ctx.github.create_status(
            ctx.org,
            ctx.repo,
            pull.head_sha,
            state="success",
            context=context,
            description=DESCRIPTION,
        )


plugin = Plugin(
    name="skip",
    description=(
        "The skip plugin allows users to clean up GitHub stale commit statuses "
        "for non-blocking jobs on a PR. Unlike the original, the statuses of "
        "jobs that always run are left alone too (the next push reports them "
        "again), and a GitHub error is retried rather than answered with a "
        "comment."
    ),
    commands=(
        Command(
            pattern=SKIP,
            usage="/skip",
            description=(
                "Cleans up GitHub stale commit statuses for non-blocking jobs on a PR."
            ),
            examples=("/skip",),
            who_can_use="Anyone can trigger this command on a PR.",
        ),
    ),
    handlers={GENERIC_COMMENT: handle_comment},
)
