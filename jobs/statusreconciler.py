"""status-reconciler: bring open pull requests in line with a new config.

When a new config version becomes active, the static presubmits of each
repo are compared with the previous version's:

* an added blocking presubmit (a new name, a job that used to skip
  reporting and now reports, or a changed run_if_changed /
  skip_if_only_changed; required and not manual) is started on every open,
  non-draft, trusted pull request where it should run, as trigger would
  start it; otherwise it would block merging until someone pushed again;
* the context of a removed presubmit is set to success on the open pull
  requests that carry it, since nothing will ever report it again;
* a job whose context was renamed has its old status copied to the new
  context and the old context retired.

Pull requests it cannot judge (untrusted, closed) are left alone entirely.

Running it twice for the same pair of versions is harmless: a job already
created at a pull request's head is not created again, and a context that
already carries the retirement is not written again. So there is no record
of which pairs were reconciled; a safety net may simply run it again.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings

from jobs import matching
from jobs.models import ProwJob, ProwJobType
from jobs.presubmits import presubmits_start, pull_changes
from jobs.trust import trusted_pull_request
from prow.config.active import active_config
from prow.config.models import ConfigVersion
from prow.config.plugins_schema import TRIGGERS, PluginsConfig, TriggerConfig
from prow.config.schema import Presubmit, ProwConfig
from prow.config.validation import validate
from prow.github.client import GitHubClient, GitHubError, github_client
from prow.github.types import PullRequest

logger = logging.getLogger(__name__)

GUID = "status-reconciler"
RETIRED = "Context retired without replacement."
MOVED = 'Context retired. Status moved to "{context}".'
SUCCESS = "success"


@dataclass(frozen=True)
class StartedJob:
    org: str
    repo: str
    number: int
    job: str
    prowjob_id: int


@dataclass(frozen=True)
class StatusChange:
    """A context set on a pull request's head: retired, or copied from
    `from_context` when a job's context was renamed."""

    org: str
    repo: str
    number: int
    sha: str
    context: str
    state: str
    description: str
    from_context: str = ""


@dataclass(frozen=True)
class RepoFailure:
    repo: str
    message: str
    permanent: bool


@dataclass
class ReconcileReport:
    started: list[StartedJob] = field(default_factory=list)
    retired: list[StatusChange] = field(default_factory=list)
    migrated: list[StatusChange] = field(default_factory=list)
    failures: list[RepoFailure] = field(default_factory=list)

    @property
    def should_retry(self) -> bool:
        """Whether a repo failed for a reason that may pass (rate limit,
        outage); what was done already is not redone on a retry."""
        return any(not failure.permanent for failure in self.failures)


@dataclass
class RepoDelta:
    """What changed in one repo's presubmits between two configs."""

    added: list[Presubmit] = field(default_factory=list)
    removed: list[Presubmit] = field(default_factory=list)
    migrated: list[tuple[Presubmit, Presubmit]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.migrated)


def _counterpart(job: Presubmit, candidates: list[Presubmit]) -> Presubmit | None:
    """The job of the same name in the other config. A name may appear more
    than once (on disjoint branches): the one with the same branch filters
    is the same job."""
    named = [c for c in candidates if c.name == job.name]
    for candidate in named:
        if (candidate.branches, candidate.skip_branches) == (
            job.branches,
            job.skip_branches,
        ):
            return candidate
    return named[0] if named else None


def presubmit_delta(old: list[Presubmit], new: list[Presubmit]) -> RepoDelta:
    delta = RepoDelta()
    for job in new:
        before = _counterpart(job, old)
        if (
            matching.is_required(job)
            and before is not None
            and before.effective_context != job.effective_context
        ):
            delta.migrated.append((before, job))
        if not matching.is_required(job) or matching.needs_explicit_trigger(job):
            continue
        if (
            before is None
            or (before.skip_report and not job.skip_report)
            or before.run_if_changed != job.run_if_changed
            or before.skip_if_only_changed != job.skip_if_only_changed
        ):
            delta.added.append(job)
    new_names = {job.name for job in new}
    delta.removed = [job for job in old if job.name not in new_names]
    return delta


def _denied(org: str, repo: str) -> bool:
    denylist = getattr(settings, "PROW_STATUS_RECONCILER_DENYLIST", None) or []
    names = {entry.strip().lower() for entry in denylist}
    return org.lower() in names or f"{org}/{repo}".lower() in names


def reconcile(
    *,
    old: ProwConfig,
    new: ProwConfig,
    plugins: PluginsConfig | None = None,
    github_for=github_client,
    guid: str = GUID,
) -> ReconcileReport:
    """Start, retire and move what the change from old to new calls for.

    plugins gives each repo's trigger settings, which decide trust; by
    default those of the active config. Only repos whose presubmits changed
    cost any GitHub call. A repo whose GitHub calls fail is recorded in the
    report and the others are still reconciled.
    """
    if plugins is None:
        plugins = active_config().plugins
    report = ReconcileReport()
    for key in sorted(set(old.presubmits) | set(new.presubmits)):
        if "/" not in key:
            continue
        org, repo = key.split("/", 1)
        delta = presubmit_delta(
            old.presubmits_for(org, repo), new.presubmits_for(org, repo)
        )
        if not delta:
            continue
        if _denied(org, repo):
            logger.info("status-reconciler: %s is denylisted", key)
            continue
        try:
            _reconcile_repo(
                org, repo, delta, new, plugins, github_for(org), guid, report
            )
        except GitHubError as exc:
            logger.warning("status-reconciler: %s: %s", key, exc)
            report.failures.append(RepoFailure(key, str(exc), exc.permanent))
    return report


@dataclass
class _Pull:
    """One open pull request being reconciled, with what it costs to know
    about it asked at most once."""

    pr: PullRequest
    gh: GitHubClient
    trigger: TriggerConfig

    def trusted(self) -> bool:
        pr = self.pr
        return trusted_pull_request(
            self.gh, pr.author, pr.org, pr.repo, pr.labels, self.trigger
        )

    def changes(self) -> list[str]:
        return pull_changes(self.gh, self.pr)


def _reconcile_repo(
    org: str,
    repo: str,
    delta: RepoDelta,
    config: ProwConfig,
    plugins: PluginsConfig,
    gh: GitHubClient,
    guid: str,
    report: ReconcileReport,
) -> None:
    trigger = plugins.section(TRIGGERS.key, org, repo)
    # A context some job still reports to is not retired, whichever job
    # reported it before.
    live_contexts = {
        job.effective_context
        for job in config.presubmits_for(org, repo)
        if not job.skip_report
    }
    for pr in gh.list_open_pulls(org, repo):
        if pr.state != "open":
            continue
        branch = pr.base_ref
        added = (
            []
            if pr.draft
            else [j for j in delta.added if matching.branch_matches(j, branch)]
        )
        removed = [
            j
            for j in delta.removed
            if matching.branch_matches(j, branch)
            and j.effective_context not in live_contexts
        ]
        migrated = [
            (before, after)
            for before, after in delta.migrated
            if matching.branch_matches(before, branch)
        ]
        if not (added or removed or migrated):
            continue
        pull = _Pull(pr, gh, trigger)
        if not pull.trusted():
            continue
        if removed or migrated:
            _fix_statuses(pull, removed, migrated, live_contexts, report)
        if added:
            _start(pull, added, config, guid, report)


def _fix_statuses(
    pull: _Pull,
    removed: list[Presubmit],
    migrated: list[tuple[Presubmit, Presubmit]],
    live_contexts: set[str],
    report: ReconcileReport,
) -> None:
    pr, gh = pull.pr, pull.gh
    status = gh.combined_status(pr.org, pr.repo, pr.head_sha)
    current = {s.context: s for s in status.statuses}
    written: set[str] = set()

    def set_status(context, state, description, target_url="", from_context=""):
        gh.create_status(
            pr.org,
            pr.repo,
            pr.head_sha,
            state=state,
            context=context,
            description=description,
            target_url=target_url or "",
        )
        change = StatusChange(
            pr.org,
            pr.repo,
            pr.number,
            pr.head_sha,
            context,
            state,
            description,
            from_context,
        )
        (report.migrated if from_context else report.retired).append(change)
        written.add(context)

    def retire(context: str, description: str) -> None:
        existing = current.get(context)
        if existing is None or context in written:
            return
        if existing.state == SUCCESS and existing.description == description:
            return  # retired by an earlier run
        set_status(context, SUCCESS, description)

    for job in removed:
        retire(job.effective_context, RETIRED)
    for before, after in migrated:
        old_context, new_context = before.effective_context, after.effective_context
        old_status = current.get(old_context)
        if old_status is None:
            continue
        # The new context may have reported already (a push since); its own
        # result wins over the copy, but the old context still has to go.
        if new_context not in current and new_context not in written:
            set_status(
                new_context,
                old_status.state,
                old_status.description or "",
                old_status.target_url or "",
                from_context=old_context,
            )
        if old_context not in live_contexts:
            retire(old_context, MOVED.format(context=new_context))


def _start(
    pull: _Pull,
    added: list[Presubmit],
    config: ProwConfig,
    guid: str,
    report: ReconcileReport,
) -> None:
    pr = pull.pr
    # pull.changes asks GitHub only when a change regex needs it, and once
    # per head SHA.
    jobs = [
        job
        for job in added
        if matching.presubmit_should_run(job, pr.base_ref, pull.changes)
    ]
    if not jobs:
        return
    # A job that ran here without reporting (it used to skip_report) left
    # no context behind, so only a reporting run counts.
    ran = set(
        ProwJob.objects.filter(
            type=ProwJobType.PRESUBMIT,
            job__in=[job.name for job in jobs],
            org=pr.org,
            repo=pr.repo,
            pull_number=pr.number,
            pull_sha=pr.head_sha,
            report=True,
        ).values_list("job", flat=True)
    )
    jobs = [job for job in jobs if job.name not in ran]
    started = presubmits_start(
        config=config, github=pull.gh, guid=guid, pulls=[pr], jobs=jobs
    )
    for prowjob in started:
        report.started.append(
            StartedJob(pr.org, pr.repo, pr.number, prowjob.job, prowjob.pk)
        )


def _load(version: ConfigVersion):
    result = validate(version.config_yaml, version.plugins_yaml)
    if not result.ok:
        raise ValueError(
            f"config version {version.pk} does not validate: "
            + "; ".join(str(e) for e in result.errors[:5])
        )
    return result.config, result.plugins


def reconcile_versions(
    old_version_id: int | None, new_version_id: int
) -> ReconcileReport:
    """Reconcile the change from one stored version to another; without an
    old id, from the version stored just before the new one. The first
    version ever has nothing to compare with, and changes nothing, as the
    original does when it starts."""
    new_version = ConfigVersion.objects.get(pk=new_version_id)
    if old_version_id is None:
        old_version = new_version.previous()
        if old_version is None:
            return ReconcileReport()
    else:
        old_version = ConfigVersion.objects.get(pk=old_version_id)
    report = ReconcileReport()
    try:
        old, _ = _load(old_version)
        new, plugins = _load(new_version)
    except ValueError as exc:
        # A version that no longer parses (a stricter schema) cannot be
        # compared; trying again will not change that.
        logger.error("status-reconciler: %s", exc)
        report.failures.append(RepoFailure("", str(exc), permanent=True))
        return report
    return reconcile(old=old, new=new, plugins=plugins, guid=f"{GUID}-{new_version.pk}")
