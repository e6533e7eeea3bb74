"""Which status contexts must pass before a pull request merges.

The policy for a branch is context_options merged from the top level down
through org, repo and branch (lists add up; the two switches are taken
from the deepest level that sets them), plus the branch protection's
required contexts when from-branch-protection is on, plus the Prow
presubmits that must pass. A context nobody named is optional only with
skip-unknown-contexts. The `tide` context never counts.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from jobs.matching import branch_matches, changes_match, has_change_regex, is_required
from prow.config.regex import compile_go_regex
from prow.config.schema import Presubmit, TideContextOptions, TideContextPolicy
from tide.types import Context

TIDE_CONTEXT = "tide"


@dataclass
class ContextPolicy:
    required: set[str] = field(default_factory=set)
    required_if_present: set[str] = field(default_factory=set)
    optional: set[str] = field(default_factory=set)
    optional_patterns: list[re.Pattern] = field(default_factory=list)
    skip_unknown: bool = False

    def is_optional(self, name: str) -> bool:
        if name == TIDE_CONTEXT:
            return True
        if name in self.optional or any(p.search(name) for p in self.optional_patterns):
            return True
        if name in self.required or name in self.required_if_present:
            return False
        return self.skip_unknown

    def missing(self, contexts: Iterable[Context]) -> list[str]:
        """Required contexts the head commit does not carry at all."""
        present = {context.name for context in contexts}
        return sorted(self.required - present)


def _levels(options: TideContextOptions, org: str, repo: str, branch: str):
    yield options
    org_policy = options.orgs.get(org)
    if org_policy is None:
        return
    yield org_policy
    repo_policy = org_policy.repos.get(repo)
    if repo_policy is None:
        return
    yield repo_policy
    branch_policy = repo_policy.branches.get(branch)
    if branch_policy is not None:
        yield branch_policy


def merged_options(
    options: TideContextOptions, org: str, repo: str, branch: str
) -> TideContextPolicy:
    merged = TideContextPolicy()
    for level in _levels(options, org, repo, branch):
        merged.required_contexts += level.required_contexts
        merged.required_if_present_contexts += level.required_if_present_contexts
        merged.optional_contexts += level.optional_contexts
        merged.optional_regex_contexts += level.optional_regex_contexts
        merged.overwrite_pending_contexts += level.overwrite_pending_contexts
        if level.skip_unknown_contexts is not None:
            merged.skip_unknown_contexts = level.skip_unknown_contexts
        if level.from_branch_protection is not None:
            merged.from_branch_protection = level.from_branch_protection
    return merged


def context_policy(
    options: TideContextOptions,
    org: str,
    repo: str,
    branch: str,
    *,
    presubmits: Iterable[Presubmit],
    protected_contexts: Iterable[str] | None,
) -> ContextPolicy:
    merged = merged_options(options, org, repo, branch)
    policy = ContextPolicy(
        required=set(merged.required_contexts),
        required_if_present=set(merged.required_if_present_contexts),
        optional=set(merged.optional_contexts),
        optional_patterns=[compile_go_regex(p) for p in merged.optional_regex_contexts],
        skip_unknown=bool(merged.skip_unknown_contexts),
    )
    if merged.from_branch_protection and protected_contexts:
        policy.required |= set(protected_contexts)
    for job in presubmits:
        if not branch_matches(job, branch):
            continue
        context = job.effective_context
        if not is_required(job):
            policy.optional.add(context)
        elif job.always_run:
            policy.required.add(context)
        else:
            # Runs only for some changes, or when asked: required when it ran.
            policy.required_if_present.add(context)
    policy.required.discard(TIDE_CONTEXT)
    return policy


def required_jobs(
    presubmits: Iterable[Presubmit], branch: str, changed: list[str] | None
) -> list[Presubmit]:
    """The presubmits that must pass for a pull request to merge: required
    ones that would run on it (always_run, or their change regex matches),
    and run_before_merge ones. changed is None when nobody needs it."""
    picked = []
    for job in presubmits:
        if not is_required(job):
            continue
        if not branch_matches(job, branch):
            continue
        by_changes = has_change_regex(job) and changed is not None
        if (
            job.always_run
            or job.run_before_merge
            or (by_changes and changes_match(job, changed))
        ):
            picked.append(job)
    return picked


def needs_changes(presubmits: Iterable[Presubmit]) -> bool:
    return any(is_required(j) and has_change_regex(j) for j in presubmits)
