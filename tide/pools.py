"""Deciding what to do with one pool (a branch of a repository): which pull
requests are in it, what each still needs, which batches are under test,
and the one action to take now.

Everything here is a plain function of what was read (pull requests, the
branch tip, blockers) and of the ProwJobs at the branch's current tip, so
it is tested without GitHub. The order of actions is the original's:
merge a passed batch; else merge one passed pull request; else start a
batch; else retest one pull request.

Beyond the original, a failed batch is split rather than run again: at one
base SHA the same set of pull requests is never tested twice as a batch,
and a batch that contains a failed one is cut to the first half of it, so
the culprit is found in log2(n) rounds. Batches are kept as a list so that
more than one can be in flight.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from jobs.models import ProwJob, ProwJobState, ProwJobType
from jobs.reporter import BASE_SHA_DELIMITER
from prow.config.schema import Presubmit, ProwConfig
from tide import merging, queries
from tide.contexts import ContextPolicy, context_policy, needs_changes, required_jobs
from tide.models import Action
from tide.types import (
    CONFLICTING,
    ERROR,
    FAILURE,
    PENDING,
    SUCCESS,
    Blocker,
    BranchTip,
    TidePull,
)

# The original's marker in a status description for "counts at any base".
SKIP_RETEST_MARKER = "[prow:skip-retest]"
IN_POOL = "In merge pool."
RANK = {SUCCESS: 2, PENDING: 1, FAILURE: 0}
JOB_STATE = {
    ProwJobState.SUCCESS: SUCCESS,
    ProwJobState.TRIGGERED: PENDING,
    ProwJobState.PENDING: PENDING,
}


def _job_result(job: ProwJob) -> str:
    return JOB_STATE.get(job.state, FAILURE)


def _best(results: Iterable[str]) -> str | None:
    found = list(results)
    return max(found, key=RANK.__getitem__) if found else None


@dataclass
class Member:
    """A pull request in the pool, with what it needs."""

    pr: TidePull
    jobs: list[Presubmit]
    # context -> best result at the pool's base
    results: dict[str, str] = field(default_factory=dict)
    state: str = "missing"  # success, pending or missing
    priority: int = 0

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.priority, self.pr.number)

    def missing_jobs(self) -> list[Presubmit]:
        return [
            job
            for job in self.jobs
            if self.results.get(job.effective_context) not in (SUCCESS, PENDING)
        ]


@dataclass
class Batch:
    pulls: list[TidePull]
    jobs: list[ProwJob]
    state: str  # success, pending or failure
    # Every pull request of the batch still in the pool at the same head.
    valid: bool = True

    @property
    def key(self) -> frozenset[tuple[int, str]]:
        return frozenset((pr.number, pr.head_sha) for pr in self.pulls)


@dataclass
class Decision:
    org: str
    repo: str
    branch: str
    base_sha: str
    action: str = Action.WAIT
    targets: list[TidePull] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    # number -> (state, description) of the `tide` status for every pull
    # request of the branch, in the pool or not.
    statuses: dict[int, tuple[str, str]] = field(default_factory=dict)
    batches: list[Batch] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    # For TRIGGER: the jobs to start on the target.
    trigger_jobs: list[Presubmit] = field(default_factory=list)
    error: str = ""

    def by_state(self, state: str) -> list[Member]:
        return sorted(
            (m for m in self.members if m.state == state), key=lambda m: m.sort_key
        )


def priority_of(config: ProwConfig, pr: TidePull) -> int:
    """Index of the first `priority` label set the pull request has in
    full (a,b meaning either); those with none come last."""
    for index, entry in enumerate(config.tide.priority):
        if all(
            any(pr.has_label(name.strip()) for name in label.split(","))
            for label in entry.labels
        ):
            return index
    return len(config.tide.priority)


def batch_size_limit(config: ProwConfig, org: str, repo: str) -> int:
    limits = config.tide.batch_size_limit
    for key in (f"{org}/{repo}", org, "*"):
        if key in limits:
            return limits[key]
    return 0


def blocking(blockers: Iterable[Blocker], org: str, repo: str, branch: str):
    return [
        b
        for b in blockers
        if b.org == org and b.repo == repo and (not b.branches or branch in b.branches)
    ]


def _exclusion(
    config: ProwConfig,
    member: Member,
    policy: ContextPolicy,
    ignorable: set[str],
) -> tuple[str, str] | None:
    """(state, description) when the pull request cannot be in the pool,
    else None. A required context failing on its head keeps it out, and so
    does one pending that Tide cannot rerun (not one of its presubmits)."""
    pr = member.pr
    own = {job.effective_context for job in member.jobs}
    tide = config.tide
    if pr.draft:
        return PENDING, "Not mergeable. PR is a draft."
    if not queries.matches(config, pr):
        return PENDING, f"Not mergeable. {queries.closest_unmet(config, pr)}".strip()
    if pr.mergeable == CONFLICTING:
        return ERROR, "Not mergeable. PR has a merge conflict."
    _, problem = merging.merge_method(tide, pr)
    if problem:
        return ERROR, f"Not mergeable. {problem}"
    if (
        pr.merge_state_status == "BLOCKED"
        and tide.github_merge_blocks_policy == "block"
    ):
        return ERROR, (
            "Not mergeable. PR is blocked from merging by GitHub (check branch "
            "protection, required reviews, or rulesets)"
        )
    failing = sorted(
        {
            c.name
            for c in pr.contexts
            if not policy.is_optional(c.name)
            and c.name not in ignorable
            and (
                c.state in (FAILURE, ERROR)
                or (c.state == PENDING and c.name not in own)
            )
        }
        | set(policy.missing(pr.contexts))
    )
    if failing:
        if len(failing) == 1:
            return PENDING, f"Not mergeable. Job {failing[0]} has not succeeded."
        return PENDING, f"Not mergeable. Jobs {', '.join(failing)} have not succeeded."
    return None


def _results_at_base(
    member: Member, base_sha: str, jobs: Iterable[ProwJob]
) -> dict[str, str]:
    """Best result per context at this base: this head's presubmits at the
    base, and green statuses that say they ran at it."""
    pr = member.pr
    found: dict[str, list[str]] = {}
    for job in jobs:
        if (
            job.type == ProwJobType.PRESUBMIT
            and job.pull_number == pr.number
            and job.pull_sha == pr.head_sha
        ):
            found.setdefault(job.context, []).append(_job_result(job))
    for context in pr.contexts:
        if context.state == SUCCESS and (
            context.description.endswith(f"{BASE_SHA_DELIMITER}{base_sha}")
            or SKIP_RETEST_MARKER in context.description
        ):
            found.setdefault(context.name, []).append(SUCCESS)
    return {name: _best(results) for name, results in found.items()}


def _state_of(wanted: Iterable[str], results: dict[str, str]) -> str:
    states = [results.get(context) for context in wanted]
    if all(state == SUCCESS for state in states):
        return SUCCESS
    if all(state in (SUCCESS, PENDING) for state in states):
        return PENDING
    return "missing"


def _batches(members: dict[int, Member], jobs: Iterable[ProwJob]) -> list[Batch]:
    grouped: dict[tuple, list[ProwJob]] = {}
    for job in jobs:
        if job.type != ProwJobType.BATCH:
            continue
        key = tuple((p.get("number"), p.get("sha")) for p in job.pulls)
        grouped.setdefault(key, []).append(job)
    batches = []
    for key, batch_jobs in grouped.items():
        pulls, valid = [], True
        for number, sha in key:
            member = members.get(number)
            if member is None or member.pr.head_sha != sha:
                valid = False
            else:
                pulls.append(member.pr)
        if not valid:
            continue
        wanted = {
            job.effective_context for number, _ in key for job in members[number].jobs
        }
        results: dict[str, list[str]] = {}
        for job in batch_jobs:
            results.setdefault(job.context, []).append(_job_result(job))
        best = {name: _best(found) for name, found in results.items()}
        state = _state_of(wanted, best)
        batches.append(
            Batch(pulls, batch_jobs, FAILURE if state == "missing" else state)
        )
    return batches


def pick_batch(
    candidates: list[TidePull], limit: int, failed: Iterable[frozenset]
) -> list[TidePull]:
    """The next batch: the first candidates up to the limit, cut down to
    the first half of any batch at this base that already failed within
    them, and again, until no failed batch is inside."""
    failed = list(failed)
    batch = candidates[:limit] if limit > 0 else list(candidates)
    while len(batch) >= 2:
        keys = {(pr.number, pr.head_sha) for pr in batch}
        inside = [f for f in failed if f <= keys]
        if not inside:
            return batch
        smallest = min(inside, key=len)
        members = [pr for pr in batch if (pr.number, pr.head_sha) in smallest]
        batch = members[: len(members) // 2]
    return []


def decide(
    config: ProwConfig,
    *,
    tip: BranchTip,
    pulls: list[TidePull],
    presubmits: list[Presubmit],
    changes: Callable[[TidePull], list[str]],
    jobs_at_base: list[ProwJob],
    blockers: Iterable[Blocker] = (),
) -> Decision:
    """The pool of one branch and the one action to take on it."""
    org, repo, branch, base = tip.org, tip.repo, tip.branch, tip.sha
    decision = Decision(org, repo, branch, base)
    policy = context_policy(
        config.tide.context_options,
        org,
        repo,
        branch,
        presubmits=presubmits,
        protected_contexts=tip.protected_contexts,
    )
    # Changed files are read only when a required job depends on them.
    wants_changes = needs_changes(presubmits)
    members: dict[int, Member] = {}
    for pr in pulls:
        changed = changes(pr) if wants_changes else None
        members[pr.number] = Member(
            pr,
            required_jobs(presubmits, branch, changed),
            priority=priority_of(config, pr),
        )
    for member in members.values():
        member.results = _results_at_base(member, base, jobs_at_base)
    batches = _batches(members, jobs_at_base)
    green_in_batch = {
        (pr.number, pr.head_sha)
        for batch in batches
        if batch.state == SUCCESS
        for pr in batch.pulls
    }
    pool: dict[int, Member] = {}
    for number, member in members.items():
        # A flake of a member's own job does not undo its green batch.
        ignorable = (
            {job.effective_context for job in member.jobs}
            if (number, member.pr.head_sha) in green_in_batch
            else set()
        )
        excluded = _exclusion(config, member, policy, ignorable)
        if excluded is not None:
            decision.statuses[number] = excluded
            continue
        wanted = [job.effective_context for job in member.jobs]
        member.state = _state_of(wanted, member.results)
        pool[number] = member
    decision.members = list(pool.values())
    # Batches whose members all stayed in the pool at the same heads.
    decision.batches = [
        b
        for b in batches
        if all(
            pr.number in pool and pool[pr.number].pr.head_sha == pr.head_sha
            for pr in b.pulls
        )
    ]
    for member in pool.values():
        decision.statuses[member.pr.number] = _pool_status(config, member)
    decision.blockers = blocking(blockers, org, repo, branch)
    if decision.blockers:
        numbers = sorted(b.number for b in decision.blockers)
        noun = "issue" if len(numbers) == 1 else "issues"
        text = (
            f"Not mergeable. Merging is blocked by {noun} "
            + ", ".join(str(n) for n in numbers)
            + "."
        )
        for number in pool:
            decision.statuses[number] = (ERROR, text)
        decision.action = Action.BLOCKED
        return decision
    _choose(config, decision, pool)
    return decision


def _pool_status(config: ProwConfig, member: Member) -> tuple[str, str]:
    if member.state == SUCCESS:
        permitted = config.tide.github_merge_blocks_policy == "permit"
        if member.pr.merge_state_status == "BLOCKED" and permitted:
            return SUCCESS, "In merge pool (despite BLOCKED)."
        return SUCCESS, IN_POOL
    waiting = [
        job.effective_context
        for job in member.jobs
        if member.results.get(job.effective_context) != SUCCESS
    ]
    text = "Not mergeable. Retesting: " + " ".join(waiting)
    if len(text) > 140:
        text = f"Not mergeable. Retesting {len(waiting)} jobs."
    return PENDING, text


def _choose(config: ProwConfig, decision: Decision, pool: dict[int, Member]) -> None:
    success_batches = [b for b in decision.batches if b.state == SUCCESS]
    pending_batches = [b for b in decision.batches if b.state == PENDING]
    success = decision.by_state(SUCCESS)
    pending = decision.by_state(PENDING)
    missing = decision.by_state("missing")
    if success_batches:
        best = max(success_batches, key=lambda b: len(b.pulls))
        decision.action = Action.MERGE_BATCH
        decision.targets = best.pulls
        return
    if success and not pending_batches:
        decision.action = Action.MERGE
        decision.targets = [success[0].pr]
        return
    if not any(member.jobs for member in pool.values()):
        return
    limit = batch_size_limit(config, decision.org, decision.repo)
    candidates = [m.pr for m in sorted(pool.values(), key=lambda m: m.sort_key)]
    if len(candidates) > 1 and not pending_batches and limit != -1:
        failed = [b.key for b in decision.batches if b.state == FAILURE]
        batch = pick_batch(candidates, limit, failed)
        if len(batch) >= 2:
            decision.action = Action.TRIGGER_BATCH
            decision.targets = batch
            return
    if missing and not pending and not success:
        target = missing[0]
        decision.action = Action.TRIGGER
        decision.targets = [target.pr]
        decision.trigger_jobs = target.missing_jobs()
