"""Creating ProwJobs from configured jobs, and moving them between states.

Every state change goes through prowjob_transition: a conditional UPDATE
that only succeeds from the state the caller saw, enforces the allowed
transitions, stamps the times, and never touches a completed job.
"""

import copy
import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from jobs.labels import (
    PER_RUN_LABELS,
    REPORTER_NAME,
    TRIGGERED_BY_ANNOTATION,
    prowjob_labels_and_annotations,
)
from jobs.models import (
    ALLOWED_TRANSITIONS,
    COMPLETE_STATES,
    REFS_COLUMNS,
    SPEC_COLUMNS,
    UNFINISHED_STATES,
    BuildCounter,
    ProwJob,
    ProwJobState,
    ProwJobType,
)
from prow import metrics
from prow.config.active import active_config
from prow.config.schema import JobBase, Periodic, Postsubmit, Presubmit, ProwConfig
from prow.tasks import enqueue
from prow.wakeups import wake_tide

logger = logging.getLogger(__name__)

# Clone options of a job that belong in its refs, as the original copies them.
_REFS_OPTIONS = (
    "path_alias",
    "clone_uri",
    "skip_submodules",
    "clone_depth",
    "skip_fetch_head",
)


def _with_clone_options(refs: dict, job: JobBase) -> dict:
    refs = copy.deepcopy(refs)
    for option in _REFS_OPTIONS:
        value = getattr(job, option)
        if value:
            refs[option] = value
    return refs


def _decoration(job: JobBase, config: ProwConfig, org: str, repo: str) -> dict | None:
    """The job's decoration config, over the plank defaults for its repo; None
    when the job is not decorated."""
    decorate = job.decorate if job.decorate is not None else config.decorate_all_jobs
    if not decorate:
        return None
    merged: dict = {}
    defaults = config.plank.default_decoration_configs
    for key in ("*", org, f"{org}/{repo}"):
        if key and key in defaults:
            merged.update(copy.deepcopy(defaults[key]))
    for entry in config.plank.default_decoration_config_entries:
        matches_repo = entry.repo in ("", "*", org, f"{org}/{repo}")
        matches_cluster = entry.cluster in ("", "*", job.cluster)
        if matches_repo and matches_cluster:
            merged.update(copy.deepcopy(entry.config))
    merged.update(copy.deepcopy(job.decoration_config or {}))
    return merged


def _common_fields(
    job: JobBase, config: ProwConfig, job_type: str, org: str, repo: str
) -> dict:
    return {
        "type": job_type,
        "job": job.name,
        "agent": job.agent,
        "cluster": job.cluster,
        # Never the job's own choice: another namespace may hold secrets and
        # service accounts that pod_namespace does not.
        "namespace": config.pod_namespace,
        "max_concurrency": job.max_concurrency,
        "job_queue_name": job.job_queue_name,
        "error_on_eviction": job.error_on_eviction,
        "hidden": job.hidden,
        "pod_spec": copy.deepcopy(job.spec),
        "decoration_config": _decoration(job, config, org, repo),
        "reporter_config": copy.deepcopy(job.reporter_config),
        "rerun_auth_config": (
            job.rerun_auth_config.model_dump() if job.rerun_auth_config else None
        ),
        "extra_refs": [r.model_dump(exclude_defaults=True) for r in job.extra_refs],
        "config_labels": dict(job.labels),
        "config_annotations": dict(job.annotations),
    }


def presubmit_fields(job: Presubmit, refs: dict, config: ProwConfig) -> dict:
    fields = _common_fields(
        job, config, ProwJobType.PRESUBMIT, refs["org"], refs["repo"]
    )
    fields.update(
        refs=_with_clone_options(refs, job),
        report=not job.skip_report,
        context=job.effective_context,
        rerun_command=job.effective_rerun_command,
    )
    return fields


def postsubmit_fields(job: Postsubmit, refs: dict, config: ProwConfig) -> dict:
    fields = _common_fields(
        job, config, ProwJobType.POSTSUBMIT, refs["org"], refs["repo"]
    )
    fields.update(
        refs=_with_clone_options(refs, job),
        report=not job.skip_report,
        context=job.effective_context,
    )
    return fields


def periodic_fields(job: Periodic, config: ProwConfig) -> dict:
    first = job.extra_refs[0] if job.extra_refs else None
    org, repo = (first.org, first.repo) if first else ("", "")
    fields = _common_fields(job, config, ProwJobType.PERIODIC, org, repo)
    # Periodics report to no pull request, so they have no status context.
    fields.update(refs=None, report=True, context="")
    return fields


def prowjob_create(*, fields: dict, extra_labels: dict | None = None) -> ProwJob:
    """Store a new triggered ProwJob built by one of the *_fields helpers."""
    fields = dict(fields)
    config_labels = fields.pop("config_labels", {})
    config_annotations = fields.pop("config_annotations", {})
    refs = fields.get("refs") or {}
    extra_refs = fields.get("extra_refs") or []
    labels, annotations = prowjob_labels_and_annotations(
        job_type=fields["type"],
        job_name=fields["job"],
        context=fields.get("context", ""),
        refs=refs or None,
        extra_refs=extra_refs,
        config_labels=config_labels,
        config_annotations=config_annotations,
        extra_labels=extra_labels or {},
    )
    where = refs or (extra_refs[0] if extra_refs else {})
    pulls = refs.get("pulls") or []
    first_pull = pulls[0] if pulls else {}
    job = ProwJob.objects.create(
        labels=labels,
        annotations=annotations,
        org=where.get("org", ""),
        repo=where.get("repo", ""),
        base_ref=where.get("base_ref", ""),
        pull_number=first_pull.get("number"),
        pull_sha=first_pull.get("sha", ""),
        author=first_pull.get("author", ""),
        **fields,
    )
    _announce(job.pk, sync=True)
    return job


def _announce(prowjob_id: int, *, sync: bool) -> None:
    """After commit, have the job reported and, when plank has something to
    do, synced. The resync tick catches whatever a lost message misses."""

    def send():
        try:
            if sync:
                enqueue("jobs.tasks.sync_prowjob", prowjob_id)
            enqueue("jobs.tasks.report_prowjob", prowjob_id)
        except Exception as exc:  # broker down: the resync tick will find it
            logger.warning("could not enqueue work for ProwJob %s: %s", prowjob_id, exc)

    transaction.on_commit(send, robust=True)


def prowjob_sync_soon(name: str) -> None:
    """Ask plank to look at the job called name (its pod's name) now."""
    pk = ProwJob.objects.filter(name=name).values_list("pk", flat=True).first()
    if pk is not None:
        enqueue("jobs.tasks.sync_prowjob", pk)


class InvalidTransition(Exception):
    pass


def prowjob_transition(
    job: ProwJob, to: str, *, description: str | None = None, **fields
) -> bool:
    """Move job from the state it has in memory to `to`.

    Returns False, changing nothing, if the row moved on meanwhile (another
    worker got there first). Raises InvalidTransition for a move the state
    machine forbids, such as any change to a completed job.
    """
    current = job.state
    if to not in ALLOWED_TRANSITIONS.get(current, set()):
        raise InvalidTransition(
            f"{job.job} {job.name}: {current} -> {to} is not allowed"
        )
    now = timezone.now()
    updates = dict(fields, state=to)
    if description is not None:
        updates["description"] = description[:500]
    if to == ProwJobState.PENDING and job.pending_time is None:
        updates.setdefault("pending_time", now)
    if to in COMPLETE_STATES:
        # Plank passes the moment the pod ended when the executor knows it.
        updates.setdefault("completion_time", now)
    changed = ProwJob.objects.filter(
        pk=job.pk, state=current, completion_time__isnull=True
    ).update(**updates)
    if changed:
        for key, value in updates.items():
            setattr(job, key, value)
        # An abort leaves a pod for plank to delete.
        _announce(job.pk, sync=to == ProwJobState.ABORTED)
        if to in COMPLETE_STATES:
            metrics.prowjob_completed(
                job.type, to, job.start_time, updates["completion_time"]
            )
            if job.type in (ProwJobType.PRESUBMIT, ProwJobType.BATCH):
                wake_tide(active_config().config, job.org, job.repo)
    return bool(changed)


def prowjob_abort(job: ProwJob, description: str, *, report: bool = True) -> bool:
    """Abort a job that has not finished. With report=False (a run superseded
    by a newer one of the same job) the reporter is told not to report it."""
    fields = {}
    if not report:
        fields["prev_report_states"] = {
            **job.prev_report_states,
            REPORTER_NAME: ProwJobState.ABORTED,
        }
    try:
        return prowjob_transition(
            job, ProwJobState.ABORTED, description=description, **fields
        )
    except InvalidTransition:
        return False


def allocate_build_id(job_name: str) -> str:
    """The next build id of job_name: increasing per job, never reused."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                BuildCounter.objects.get_or_create(job=job_name)
        except IntegrityError:
            pass  # created concurrently; the update below serialises us
        BuildCounter.objects.filter(job=job_name).update(last=F("last") + 1)
        return str(BuildCounter.objects.get(job=job_name).last)


def pull_request_presubmits_abort(
    org: str, repo: str, number: int, description: str
) -> int:
    """Abort every unfinished presubmit of a pull request."""
    count = 0
    for job in ProwJob.objects.filter(
        type=ProwJobType.PRESUBMIT,
        org=org,
        repo=repo,
        pull_number=number,
        state__in=UNFINISHED_STATES,
    ):
        count += prowjob_abort(job, description)
    return count


# A rerun copies the spec as it was.
_SPEC_COLUMNS = SPEC_COLUMNS + REFS_COLUMNS


def prowjob_rerun(job: ProwJob, *, user=None) -> ProwJob:
    """A new run with the same spec as `job` (Deck's rerun button).

    The same refs are tested again, as the original does: a rerun answers
    "was it a flake?", not "does the branch pass now". Callers check that
    `user` may do this.
    """
    fields = {name: copy.deepcopy(getattr(job, name)) for name in _SPEC_COLUMNS}
    labels = {k: v for k, v in job.labels.items() if k not in PER_RUN_LABELS}
    annotations = dict(job.annotations)
    username = getattr(user, "username", user)
    if username:
        annotations[TRIGGERED_BY_ANNOTATION] = str(username)
    new = ProwJob.objects.create(labels=labels, annotations=annotations, **fields)
    _announce(new.pk, sync=True)
    logger.info("%s %s rerun as %s by %s", job.job, job.name, new.name, username)
    return new
