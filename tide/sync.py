"""A Tide sync: read GitHub once per org, then decide and act on each pool.

Reading: the pull requests Tide tracks are kept (TrackedPull), so a sync
asks GitHub only for those updated since the last read, and every
PROW_TIDE_FULL_SYNC_SECONDS for all of them again (a status does not
change a pull request's update time; webhooks wake a pool's sync for
those, and the full read is the safety net). Branch tips and protection
come in the same GraphQL request, so an idle sync costs one request per
org.

Acting: each pool is decided and acted on under its own lock. A sync that
read GitHub before another sync changed the pool (merged, started tests)
holds stale data for it, so it leaves the pool alone and asks for a fresh
sync of it instead: overlapping syncs merge once.
"""

import hashlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from jobs.inrepo import presubmits_for
from jobs.labels import CREATED_BY_TIDE
from jobs.models import ProwJob, ProwJobType
from jobs.presubmits import presubmits_start, pull_changes
from prow import metrics
from prow.config.active import active_config
from prow.config.durations import parse_duration
from prow.config.schema import Presubmit, ProwConfig
from prow.github.client import (
    GitHubClient,
    GitHubError,
    GitHubTransientError,
    github_client,
)
from prow.github.types import PullRequest
from prow.locks import session_lock
from prow.tasks import enqueue
from tide import merging, queries, search
from tide.models import (
    RECORDED_ACTIONS,
    Action,
    HistoryRecord,
    Pool,
    SyncMark,
    TrackedPull,
    WrittenStatus,
)
from tide.pools import Decision, decide
from tide.types import OPEN_STATE, BranchTip, Context, TidePull

logger = logging.getLogger(__name__)

FULL_MARK = "tide:full-read"
READ_MARK = "tide:read"
SYNC_MARK = "tide:sync"
STATUS_MARK = "tide:statuses"
# History kept per pool, as the original keeps.
HISTORY_PER_POOL = 1000
STATUS_CONTEXT = "tide"
# Seconds of overlap between incremental reads, for clocks that disagree.
READ_OVERLAP = 60
POOL_TASK = "tide.tasks.sync_repo"


@dataclass
class SyncReport:
    pools: int = 0
    pulls: int = 0
    requests: int = 0
    cost: int = 0
    actions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    skipped: list[str] = field(default_factory=list)


class StatusBudget:
    """How many `tide` statuses one sync may still write. GitHub writes are
    spaced (PROW_GITHUB_WRITE_SPACING_SECONDS), so a first sync owing a
    status to each of a thousand pull requests would run for many minutes;
    it writes this many, and the rest follow in the next syncs (what was
    written is remembered, so nothing is written twice)."""

    def __init__(self, writes: int) -> None:
        self._left = writes
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


# ------------------------------------------------------------------ reading


def pull_from_data(data: dict) -> TidePull:
    fields = dict(data)
    fields["labels"] = tuple(fields.get("labels") or ())
    fields["contexts"] = tuple(Context(**c) for c in fields.get("contexts") or ())
    return TidePull(**fields)


def _mark(name: str) -> datetime | None:
    found = SyncMark.objects.filter(name=name).first()
    return found.at if found else None


def _set_mark(name: str, at: datetime) -> None:
    SyncMark.objects.update_or_create(name=name, defaults={"at": at})


def _store(pulls: Iterable[TidePull], read_at: datetime) -> None:
    """Keep what was read, unless a later read (or a merge) already wrote
    the row: a slow sync must not bring back a merged pull request. A few
    statements per org, not per pull request: a first read brings
    thousands."""
    by_repo: dict[tuple[str, str], list[TidePull]] = defaultdict(list)
    for pr in pulls:
        by_repo[(pr.org, pr.repo)].append(pr)
    for (org, repo), found in by_repo.items():
        existing = {
            row.number: row
            for row in TrackedPull.objects.filter(
                org=org, repo=repo, number__in=[pr.number for pr in found]
            )
        }
        create, update, closed = [], [], []
        for pr in found:
            row = existing.get(pr.number)
            if row is not None and row.read_at > read_at:
                continue
            if pr.state != OPEN_STATE:
                closed.append(pr.number)
            elif row is None:
                create.append(
                    TrackedPull(
                        org=org,
                        repo=repo,
                        number=pr.number,
                        base_ref=pr.base_ref,
                        data=asdict(pr),
                        read_at=read_at,
                    )
                )
            else:
                row.base_ref, row.data, row.read_at = pr.base_ref, asdict(pr), read_at
                update.append(row)
        TrackedPull.objects.bulk_create(create, ignore_conflicts=True)
        TrackedPull.objects.bulk_update(update, ["base_ref", "data", "read_at"])
        if closed:
            TrackedPull.objects.filter(org=org, repo=repo, number__in=closed).delete()
            _forget_statuses(org, repo, closed)


def _forget_unseen(
    org: str, repos: set[str] | None, seen: set[tuple[str, int]], read_at: datetime
) -> None:
    """After a full read: what was not returned is no longer open."""
    tracked = TrackedPull.objects.filter(org=org, read_at__lt=read_at)
    if repos is not None:
        tracked = tracked.filter(repo__in=repos)
    gone: list[int] = []
    by_repo: dict[str, list[int]] = defaultdict(list)
    for row in tracked.only("pk", "repo", "number"):
        if (row.repo, row.number) not in seen:
            gone.append(row.pk)
            by_repo[row.repo].append(row.number)
    for repo, numbers in by_repo.items():
        _forget_statuses(org, repo, numbers)
    TrackedPull.objects.filter(pk__in=gone).delete()


def _forget_statuses(org: str, repo: str, numbers: list[int]) -> None:
    WrittenStatus.objects.filter(org=org, repo=repo, number__in=numbers).delete()


def _org_scopes(config: ProwConfig) -> dict[str, list[str]]:
    by_org: dict[str, list[str]] = defaultdict(list)
    for term in queries.scope_terms(config):
        name = term.split(":", 1)[1].strip('"')
        by_org[name.split("/", 1)[0]].append(term)
    return by_org


def read_github(
    config: ProwConfig, *, repo: tuple[str, str] | None = None, full: bool = False
) -> tuple[dict[tuple[str, str, str], BranchTip], list, datetime, SyncReport]:
    """Read what changed; returns tips by pool, blockers, when the read
    began, and its cost."""
    report = SyncReport()
    started = timezone.now()
    since = None
    if repo is None and not full:
        last_full = _mark(FULL_MARK)
        last_read = _mark(READ_MARK)
        due = timedelta(seconds=settings.PROW_TIDE_FULL_SYNC_SECONDS)
        if (
            last_full is not None
            and last_read is not None
            and started - last_full < due
        ):
            since = last_read - timedelta(seconds=READ_OVERLAP)
    if repo is not None:
        scopes_by_org = {repo[0]: [f'repo:"{repo[0]}/{repo[1]}"']}
    else:
        scopes_by_org = _org_scopes(config)
    tips: dict[tuple[str, str, str], BranchTip] = {}
    blockers = []
    for org, scopes in scopes_by_org.items():
        known = Pool.objects.filter(org=org)
        if repo is not None:
            known = known.filter(repo=repo[1])
        branches = {(p.org, p.repo, p.branch) for p in known}
        tracked = TrackedPull.objects.filter(org=org)
        if repo is not None:
            tracked = tracked.filter(repo=repo[1])
        branches |= set(tracked.values_list("org", "repo", "base_ref").distinct())
        github = github_client(org)
        try:
            result = search.fetch(
                github,
                scopes=scopes,
                since=since,
                branches=sorted(branches),
                blocker_label=config.tide.blocker_label,
            )
        except GitHubError as error:
            if isinstance(error, GitHubTransientError) or not branches:
                raise
            # A repository renamed or deleted since it was tracked fails the
            # whole document; read without the known branches, whose tips
            # then come from the pull requests that are still there.
            logger.warning("tide: reading %s with its branches failed: %s", org, error)
            report.requests += 1
            result = search.fetch(
                github,
                scopes=scopes,
                since=since,
                blocker_label=config.tide.blocker_label,
            )
        report.requests += result.requests
        report.cost += result.cost
        _store(result.pulls, started)
        if since is None:
            seen = {(pr.repo, pr.number) for pr in result.pulls}
            _forget_unseen(org, {repo[1]} if repo else None, seen, started)
        tips.update(result.tips)
        # Branches first seen in this read: their tips and protection.
        new = {pr.pool_key for pr in result.pulls if pr.state == OPEN_STATE} - set(
            result.tips
        )
        if new:
            extra = search.fetch(github, scopes=[], branches=sorted(new))
            report.requests += extra.requests
            report.cost += extra.cost
            tips.update(extra.tips)
        blockers.extend(result.blockers)
    if repo is None:
        _set_mark(READ_MARK, started)
        if since is None:
            _set_mark(FULL_MARK, started)
    metrics.tide_read(report.requests, report.cost, full=since is None)
    return tips, blockers, started, report


# ------------------------------------------------------------------ acting


def _target_url(config: ProwConfig, pr: TidePull) -> str:
    tide = config.tide
    for key in (f"{pr.org}/{pr.repo}", pr.org, "*"):
        if key in tide.target_urls:
            return tide.target_urls[key]
    if tide.target_url:
        return tide.target_url
    bases = tide.pr_status_base_urls
    base = bases.get(f"{pr.org}/{pr.repo}") or bases.get(pr.org) or bases.get("*")
    base = base or tide.pr_status_base_url
    if base:
        query = f"is:pr repo:{pr.org}/{pr.repo} author:{pr.author} head:{pr.head_ref}"
        return f"{base}?query={query}"
    return f"{settings.PROW_EXTERNAL_URL}/tide?repo={pr.org}/{pr.repo}"


def write_status(
    github: GitHubClient,
    config: ProwConfig,
    pr: TidePull,
    state: str,
    text: str,
    written: WrittenStatus | None | bool = True,
    budget: StatusBudget | None = None,
) -> bool:
    """Set the `tide` context on pr's head unless it already says so.
    written: what was last written, when the caller has read it already;
    budget: what this sync may still write (None: no limit)."""
    if len(text) > 140:
        text = text[:137] + "..."
    url = _target_url(config, pr)
    if written is True:
        written = WrittenStatus.objects.filter(
            org=pr.org, repo=pr.repo, number=pr.number
        ).first()
    if (
        written is not None
        and written.head_sha == pr.head_sha
        and (written.state, written.description, written.target_url)
        == (state, text, url)
    ):
        return False
    if budget is not None and not budget.take():
        return False
    github.create_status(
        pr.org,
        pr.repo,
        pr.head_sha,
        state=state,
        context=STATUS_CONTEXT,
        description=text,
        target_url=url,
    )
    WrittenStatus.objects.update_or_create(
        org=pr.org,
        repo=pr.repo,
        number=pr.number,
        defaults={
            "head_sha": pr.head_sha,
            "state": state,
            "description": text,
            "target_url": url,
            "written_at": timezone.now(),
        },
    )
    return True


def pull_request(pr: TidePull) -> PullRequest:
    return PullRequest(
        org=pr.org,
        repo=pr.repo,
        number=pr.number,
        author=pr.author,
        head_sha=pr.head_sha,
        head_ref=pr.head_ref,
        base_ref=pr.base_ref,
        title=pr.title,
        labels=list(pr.labels),
        draft=pr.draft,
        state="open",
        mergeable=pr.mergeable != "CONFLICTING",
        body=pr.body,
        base_sha=pr.base_sha,
    )


def _guid(decision: Decision, pulls: list[TidePull]) -> str:
    """The same test of the same pull requests at the same base is one
    event: a second sync deciding it again starts nothing new."""
    key = decision.base_sha + "".join(f"|{p.number}@{p.head_sha}" for p in pulls)
    return "tide-" + hashlib.sha1(key.encode()).hexdigest()[:32]


def _summary(pr: TidePull, link: str, reason: str = "") -> dict:
    return {
        "number": pr.number,
        "author": pr.author,
        "title": pr.title,
        "sha": pr.head_sha,
        "head_ref": pr.head_ref,
        "labels": list(pr.labels),
        "url": f"{link}/{pr.org}/{pr.repo}/pull/{pr.number}",
        "reason": reason,
    }


def _target(pr: TidePull) -> dict:
    return {
        "number": pr.number,
        "author": pr.author,
        "sha": pr.head_sha,
        "title": pr.title,
        "head_ref": pr.head_ref,
    }


def _merge(
    github: GitHubClient, config: ProwConfig, decision: Decision, tip: BranchTip
) -> tuple[list[TidePull], str]:
    # Only when branch protection requires the tide context does it have to
    # be green before the merge; otherwise writing it would cost a spaced
    # GitHub write on the way to every merge, for a pull request about to
    # close.
    tide_required = STATUS_CONTEXT in (tip.protected_contexts or ())
    merged, errors = [], []
    for index, pr in enumerate(decision.targets):
        if index:
            time.sleep(settings.PROW_TIDE_BATCH_MERGE_PAUSE_SECONDS)
        method, problem = merging.merge_method(config.tide, pr)
        if problem:
            errors.append(f"#{pr.number}: {problem}")
            continue
        if tide_required:
            write_status(github, config, pr, "success", "In merge pool.")
        outcome = merging.merge_pull(github, config.tide, pr, method)
        if outcome.merged:
            merged.append(pr)
            TrackedPull.objects.filter(
                org=pr.org, repo=pr.repo, number=pr.number
            ).delete()
            _forget_statuses(pr.org, pr.repo, [pr.number])
            metrics.tide_merged(pr.org, pr.repo)
            continue
        errors.append(outcome.error)
        if outcome.fatal:
            break
    error = ""
    if errors:
        numbers = " ".join(str(p.number) for p in decision.targets)
        done = " ".join(str(p.number) for p in merged)
        error = "; ".join(errors)
        if len(decision.targets) > 1:
            error = f"failed merging from batch [{numbers}], merged [{done}]: {error}"
    return merged, error


def _trigger(
    github: GitHubClient,
    config: ProwConfig,
    decision: Decision,
    presubmits: list[Presubmit],
) -> int:
    targets = decision.targets
    if decision.action == Action.TRIGGER:
        jobs = decision.trigger_jobs
    else:
        wanted = {
            job.name
            for member in decision.members
            if member.pr in targets
            for job in member.jobs
        }
        jobs = [job for job in presubmits if job.name in wanted]
    created = presubmits_start(
        config=config,
        github=github,
        guid=_guid(decision, targets),
        pulls=[pull_request(pr) for pr in targets],
        jobs=jobs,
        base_sha=decision.base_sha,
        extra_labels={CREATED_BY_TIDE: "true"},
    )
    return len(created)


def _record(decision: Decision, error: str, targets: list[TidePull]) -> None:
    action = decision.action
    if action not in RECORDED_ACTIONS:
        return
    HistoryRecord.objects.create(
        org=decision.org,
        repo=decision.repo,
        branch=decision.branch,
        action=action,
        base_sha=decision.base_sha,
        targets=[_target(pr) for pr in targets],
        error=error,
    )


def _save_pool(
    config: ProwConfig, decision: Decision, error: str, changed: bool
) -> None:
    link = config.github.link_url.rstrip("/")
    reasons = {number: text for number, (_, text) in decision.statuses.items()}

    def listed(state: str) -> list[dict]:
        return [
            _summary(m.pr, link, reasons.get(m.pr.number, ""))
            for m in decision.by_state(state)
        ]

    now = timezone.now()
    defaults = {
        "base_sha": decision.base_sha,
        "action": decision.action,
        "target": [
            _summary(pr, link, reasons.get(pr.number, "")) for pr in decision.targets
        ],
        "success_prs": listed("success"),
        "pending_prs": listed("pending"),
        "missing_prs": listed("missing"),
        "batches": [
            {
                "pulls": [_summary(pr, link) for pr in batch.pulls],
                "state": batch.state,
                "jobs": [
                    {
                        "name": str(job.name),
                        "job": job.job,
                        "state": job.state,
                        "url": f"/view/prowjob/{job.name}",
                    }
                    for job in batch.jobs
                ],
            }
            for batch in decision.batches
        ],
        "blockers": [
            {"number": b.number, "title": b.title, "url": b.url}
            for b in decision.blockers
        ],
        "error": error,
        "synced_at": now,
    }
    if changed:
        defaults["changed_at"] = now
    Pool.objects.update_or_create(
        org=decision.org,
        repo=decision.repo,
        branch=decision.branch,
        defaults=defaults,
    )


def _jobs_at_base(org: str, repo: str, branch: str, base_sha: str) -> list[ProwJob]:
    return list(
        ProwJob.objects.filter(
            org=org,
            repo=repo,
            base_ref=branch,
            type__in=[ProwJobType.PRESUBMIT, ProwJobType.BATCH],
            refs__base_sha=base_sha,
        ).order_by("id")
    )


def sync_pool(
    config: ProwConfig,
    tip: BranchTip,
    blockers: list,
    read_started: datetime,
    *,
    write_statuses: bool = True,
    budget: StatusBudget | None = None,
) -> Decision | None:
    """Decide and act on one pool; None when a newer change to it means this
    sync's data is stale (a fresh sync of it is asked for)."""
    org, repo, branch = tip.org, tip.repo, tip.branch
    with session_lock(f"tide:pool:{org}/{repo}:{branch}"):
        existing = Pool.objects.filter(org=org, repo=repo, branch=branch).first()
        if existing and existing.changed_at and existing.changed_at > read_started:
            enqueue_repo_sync(org, repo)
            return None
        rows = TrackedPull.objects.filter(org=org, repo=repo, base_ref=branch)
        pulls = sorted(
            (pull_from_data(row.data) for row in rows), key=lambda p: p.number
        )
        if not pulls:
            Pool.objects.filter(org=org, repo=repo, branch=branch).delete()
            return None
        github = github_client(org)
        error = ""
        try:
            presubmits = presubmits_for(github, config, org, repo, tip.sha)
        except Exception as exc:  # an in-repo config that does not load
            presubmits = None
            error = f"presubmits at {tip.sha[:8]} unreadable: {exc}"
        if presubmits is None:
            decision = Decision(org, repo, branch, tip.sha, action=Action.ERROR)
            _save_pool(config, decision, error, changed=False)
            _record(decision, error, [])
            return decision
        decision = decide(
            config,
            tip=tip,
            pulls=pulls,
            presubmits=presubmits,
            changes=lambda pr: pull_changes(github, pull_request(pr)),
            jobs_at_base=_jobs_at_base(org, repo, branch, tip.sha),
            blockers=blockers,
        )
        targets = decision.targets
        changed = False
        if decision.action in (Action.MERGE, Action.MERGE_BATCH):
            merged, error = _merge(github, config, decision, tip)
            changed = bool(merged)
        elif decision.action in (Action.TRIGGER, Action.TRIGGER_BATCH):
            changed = _trigger(github, config, decision, presubmits) > 0
        if write_statuses:
            _write_statuses(github, config, decision, pulls, budget)
        _save_pool(config, decision, error, changed)
        if changed or error:
            _record(decision, error, targets)
        metrics.tide_pool(
            org,
            repo,
            branch,
            decision.action,
            {
                state: len(decision.by_state(state))
                for state in ("success", "pending", "missing")
            },
        )
        return decision


def enqueue_repo_sync(org: str, repo: str) -> None:
    enqueue(POOL_TASK, org, repo, countdown=settings.PROW_TIDE_DEBOUNCE_SECONDS)


def _pools(
    config: ProwConfig, tips: dict, repo: tuple[str, str] | None
) -> list[BranchTip]:
    rows = TrackedPull.objects.all()
    if repo is not None:
        rows = rows.filter(org=repo[0], repo=repo[1])
    keys = set(rows.values_list("org", "repo", "base_ref").distinct())
    found = []
    for key in sorted(keys):
        if not queries.in_scope(config, key[0], key[1]):
            continue
        tip = tips.get(key)
        if tip is None:
            logger.info("tide: no tip read for %s/%s:%s", *key)
            continue
        found.append(tip)
    return found


def _in_thread(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    finally:
        # Each thread has its own database connection: close it here.
        if connection.connection is not None:
            connection.close()


def sync(*, repo: tuple[str, str] | None = None, full: bool = False) -> SyncReport:
    """One sync of every pool (or of one repository's pools)."""
    close_old_connections()
    config = active_config().config
    if not config.tide.queries:
        return SyncReport()
    started = time.monotonic()
    tips, blockers, read_started, report = read_github(config, repo=repo, full=full)
    pools = _pools(config, tips, repo)
    report.pools = len(pools)
    _forget_pools(pools, repo)
    workers = max(1, min(config.tide.max_goroutines, len(pools)))
    # Statuses are the periodic sync's, every status_update_period: an
    # event's sync only acts, so a backlog of spaced status writes (a first
    # sync over many pull requests) never stands between an event and its
    # merge.
    statuses = repo is None and _statuses_due(config)

    budget = StatusBudget(settings.PROW_TIDE_STATUS_WRITES_PER_SYNC)
    options = {"write_statuses": statuses, "budget": budget}

    def one(tip: BranchTip):
        return _in_thread(sync_pool, config, tip, blockers, read_started, **options)

    if workers == 1:
        decisions = [
            sync_pool(config, tip, blockers, read_started, **options) for tip in pools
        ]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool_runner:
            decisions = list(pool_runner.map(one, pools))
    for tip, decision in zip(pools, decisions, strict=True):
        if decision is None:
            report.skipped.append(f"{tip.org}/{tip.repo}:{tip.branch}")
            continue
        report.actions[decision.action] += 1
        report.pulls += len(decision.statuses)
    if repo is None:
        _set_mark(SYNC_MARK, timezone.now())
        if statuses:
            _set_mark(STATUS_MARK, timezone.now())
        prune_history()
    metrics.tide_synced(time.monotonic() - started, full=repo is None)
    return report


def mark_synced() -> None:
    """Count an attempt as the period's sync, even one that failed."""
    _set_mark(SYNC_MARK, timezone.now())


def sync_due(config: ProwConfig) -> bool:
    last = _mark(SYNC_MARK)
    if last is None:
        return True
    period = parse_duration(config.tide.sync_period)
    return timezone.now() - last >= period


def _statuses_due(config: ProwConfig) -> bool:
    last = _mark(STATUS_MARK)
    if last is None:
        return True
    period = config.tide.status_update_period or config.tide.sync_period
    return timezone.now() - last >= parse_duration(period)


def _forget_pools(pools: list[BranchTip], repo: tuple[str, str] | None) -> None:
    """Pools whose pull requests are all gone leave Deck."""
    current = {(tip.org, tip.repo, tip.branch) for tip in pools}
    rows = Pool.objects.all()
    if repo is not None:
        rows = rows.filter(org=repo[0], repo=repo[1])
    stale = [
        row.pk
        for row in rows.only("pk", "org", "repo", "branch")
        if (row.org, row.repo, row.branch) not in current
    ]
    Pool.objects.filter(pk__in=stale).delete()


def prune_history() -> int:
    """Keep the newest HISTORY_PER_POOL records of each pool."""
    removed = 0
    pools = HistoryRecord.objects.values_list("org", "repo", "branch").distinct()
    for org, repo, branch in pools:
        records = HistoryRecord.objects.filter(org=org, repo=repo, branch=branch)
        cutoff = records.order_by("-created", "-id").values_list("id", flat=True)[
            HISTORY_PER_POOL : HISTORY_PER_POOL + 1
        ]
        if cutoff:
            oldest_kept = list(cutoff)[0]
            removed += records.filter(id__lte=oldest_kept).delete()[0]
    return removed


def _write_statuses(
    github: GitHubClient,
    config: ProwConfig,
    decision: Decision,
    pulls: list[TidePull],
    budget: StatusBudget | None,
) -> None:
    """After acting, so a pool's merge never waits behind its statuses;
    pull requests just merged get none."""
    merged = set()
    if decision.action in (Action.MERGE, Action.MERGE_BATCH):
        merged = {pr.number for pr in decision.targets}
    written = {
        row.number: row
        for row in WrittenStatus.objects.filter(org=decision.org, repo=decision.repo)
    }
    for pr in pulls:
        if pr.number in decision.statuses and pr.number not in merged:
            state, text = decision.statuses[pr.number]
            write_status(
                github, config, pr, state, text, written.get(pr.number), budget
            )
