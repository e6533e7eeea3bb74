"""Which configured jobs apply to a change: the original's predicates.

ShouldRun for a presubmit: never if the branch filter excludes the base
branch; always if always_run; always if forced (asked for by name); else,
with a change regex, whatever the regex says about the changed files (or
the default); else the default.
"""

from collections.abc import Callable

from prow.config.regex import compile_go_regex
from prow.config.schema import Postsubmit, Presubmit

ChangesProvider = Callable[[], list[str]]


def branch_matches(job: Presubmit | Postsubmit, branch: str) -> bool:
    """skip_branches wins over branches; both are unanchored regex searches
    joined with |, as the original joins them."""
    if job.skip_branches and compile_go_regex("|".join(job.skip_branches)).search(
        branch
    ):
        return False
    if job.branches:
        return bool(compile_go_regex("|".join(job.branches)).search(branch))
    return True


def has_change_regex(job: Presubmit | Postsubmit) -> bool:
    return bool(job.run_if_changed or job.skip_if_only_changed)


def is_required(job: Presubmit) -> bool:
    """Its context must be green before a pull request merges: it is
    neither optional nor silent (skip_report). Everything else is optional,
    for merging, for the trigger help's lists and for /retest-required."""
    return not job.optional and not job.skip_report


def needs_explicit_trigger(job: Presubmit) -> bool:
    """Runs only when someone asks for it by name."""
    return not job.always_run and not has_change_regex(job)


def changes_match(job: Presubmit | Postsubmit, changed: list[str]) -> bool:
    """run_if_changed: any changed path matches. skip_if_only_changed: run
    unless every changed path matches (an empty change list runs nothing)."""
    if job.run_if_changed:
        pattern = compile_go_regex(job.run_if_changed)
        return any(pattern.search(path) for path in changed)
    if job.skip_if_only_changed:
        pattern = compile_go_regex(job.skip_if_only_changed)
        return any(not pattern.search(path) for path in changed)
    return True


def presubmit_should_run(
    job: Presubmit,
    branch: str,
    changes: ChangesProvider,
    *,
    forced: bool = False,
    default: bool = False,
) -> bool:
    if not branch_matches(job, branch):
        return False
    if job.always_run or forced:
        return True
    if has_change_regex(job):
        return changes_match(job, changes()) or default
    return default


def test_all_presubmits(
    presubmits: list[Presubmit], branch: str, changes: ChangesProvider
) -> list[Presubmit]:
    """What runs automatically on a pull request (and on /test all): every
    job that is not manual, whose filters match."""
    return [
        job
        for job in presubmits
        if not needs_explicit_trigger(job)
        and presubmit_should_run(job, branch, changes)
    ]


def postsubmit_should_run(
    job: Postsubmit, branch: str, changes: ChangesProvider
) -> bool:
    """On a push: the branch filter; then a change regex decides if there is
    one; else always_run if it was said; else run."""
    if not branch_matches(job, branch):
        return False
    if has_change_regex(job):
        return changes_match(job, changes())
    if job.always_run is not None:
        return job.always_run
    return True
