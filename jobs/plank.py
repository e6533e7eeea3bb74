"""Plank: turns a triggered ProwJob into a pod, and the pod's fate into the
job's state.

sync_job(pk) is the whole controller for one job. It runs on a task when a
job is created or changes, and again on every resync tick for every job not
finished, so a lost message only delays work. It holds the job's row lock
(SELECT ... FOR UPDATE SKIP LOCKED): two workers never act on one job at
once. The pod's name is the job's name, so a worker that dies between
creating the pod and saving the row finds that pod next time instead of
making a second one.
"""

import json
import logging
import re
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from jobs.executors import executor_for
from jobs.executors.base import ExecutorError, PodExists, PodStatus
from jobs.logs import artifact_store, left_out_note, log_name, store_job_artifacts
from jobs.models import (
    UNFINISHED_STATES,
    JobArtifact,
    ProwJob,
    ProwJobState,
    ProwJobType,
)
from jobs.pods import build_pod
from jobs.services import allocate_build_id, prowjob_abort, prowjob_transition
from prow.config.active import active_config
from prow.config.durations import parse_duration
from prow.config.schema import ProwConfig
from prow.locks import transaction_lock

logger = logging.getLogger(__name__)
State = ProwJobState

IMAGE_ERRORS = {
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
}
SUPERSEDED = "Aborted as the newer version of this job is running."
POD_INFO = "podinfo.json"
POD_INFO_MAX_BYTES = 64 * 1024


def sync_job(job_id: int) -> None:
    with transaction.atomic():
        job = (
            ProwJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, agent="kubernetes")
            .first()
        )
        if job is None:
            return  # gone, not ours, or another worker holds it right now
        config = active_config().config
        if job.state in (State.TRIGGERED, State.PENDING) and _superseded(job):
            prowjob_abort(job, SUPERSEDED, report=False)
            job.refresh_from_db()
        if job.state == State.TRIGGERED:
            _sync_triggered(job, config)
        elif job.state == State.PENDING:
            _sync_pending(job, config)
        elif job.state == State.ABORTED and job.pod_name:
            _clean_up_aborted(job)


# Triggered -------------------------------------------------------------------


def _lock_slots(scope: str) -> None:
    """Serialise the decisions that count running jobs (per job name, per
    queue, globally), so two workers cannot both take the last slot."""
    transaction_lock(f"plank:{scope}")


def _superseded(job: ProwJob) -> bool:
    """A presubmit with a newer unfinished run of the same job for the same
    pull request (any SHA) is stale: the newer one is what matters."""
    if job.type != ProwJobType.PRESUBMIT or job.pull_number is None:
        return False
    return ProwJob.objects.filter(
        type=ProwJobType.PRESUBMIT,
        job=job.job,
        org=job.org,
        repo=job.repo,
        base_ref=job.base_ref,
        pull_number=job.pull_number,
        state__in=UNFINISHED_STATES,
        id__gt=job.id,
    ).exists()


def _may_start(job: ProwJob, config: ProwConfig) -> bool:
    """The concurrency limits: per job, per queue, and overall. Jobs wait in
    triggered, oldest first; overall, each job name's oldest goes first, so
    one busy job cannot starve the others."""
    if job.max_concurrency:
        _lock_slots(f"job:{job.job}")
        if _ahead(job, job=job.job) >= job.max_concurrency:
            return False
    if job.job_queue_name:
        capacity = config.plank.job_queue_capacities.get(job.job_queue_name)
        if capacity is not None and capacity >= 0:
            _lock_slots(f"queue:{job.job_queue_name}")
            if _ahead(job, job_queue_name=job.job_queue_name) >= capacity:
                return False
    limit = config.plank.max_concurrency
    if limit:
        _lock_slots("global")
        free = limit - ProwJob.objects.filter(state=State.PENDING).count()
        if free <= 0:
            return False
        return job.id in fair_order(limit=free)
    return True


def _ahead(job: ProwJob, /, **scope) -> int:
    """How many jobs in `scope` run already or wait in line before `job`."""
    return (
        ProwJob.objects.filter(**scope)
        .filter(Q(state=State.PENDING) | Q(state=State.TRIGGERED, id__lt=job.id))
        .count()
    )


def fair_order(limit: int | None = None) -> list[int]:
    """Triggered job ids in the order they should start: round-robin over
    job names, counting the runs each name already has going, so a job
    with many queued runs cannot starve one with few."""
    running = (
        ProwJob.objects.filter(job=OuterRef("job"), state=State.PENDING)
        .order_by()
        .values("job")
        .annotate(count=Count("id"))
        .values("count")
    )
    queryset = (
        ProwJob.objects.filter(state=State.TRIGGERED, agent="kubernetes")
        .annotate(
            turn=Window(RowNumber(), partition_by=[F("job")], order_by=F("id").asc())
            + Coalesce(Subquery(running), 0)
        )
        .order_by("turn", "id")
        .values_list("id", flat=True)
    )
    return list(queryset[:limit] if limit else queryset)


def _sync_triggered(job: ProwJob, config: ProwConfig) -> None:
    if not _may_start(job, config):
        return
    try:
        executor = executor_for(job.cluster)
    except ExecutorError as exc:
        _terminal(job, exc)
        return
    # A new pod goes in pod_namespace whatever the stored job says (a rerun
    # copies the namespace of a run made before that was enforced).
    namespace = config.pod_namespace
    build_id = allocate_build_id(job.job)
    try:
        executor.create(_pod(job, build_id, namespace, config))
    except PodExists:
        # An earlier attempt made the pod and died before saving the row.
        build_id = executor.status(namespace, str(job.name)).build_id or build_id
    except ExecutorError as exc:
        if exc.permanent:
            prowjob_transition(
                job, State.ERROR, description=f"Pod can not be created: {exc}"
            )
        else:
            logger.warning("job %s: pod not created yet: %s", job.name, exc)
        return
    prowjob_transition(
        job,
        State.PENDING,
        description="Job triggered.",
        build_id=build_id,
        pod_name=str(job.name),
        namespace=namespace,
        url=job_url(job, build_id, config),
    )


def _pod(job: ProwJob, build_id: str, namespace: str, config: ProwConfig) -> dict:
    return build_pod(
        job,
        build_id=build_id,
        namespace=namespace,
        github_link=config.github.link_url,
        clone_image=settings.PROW_CLONE_IMAGE or None,
    )


def _terminal(job: ProwJob, exc: Exception) -> None:
    prowjob_transition(job, State.ERROR, description=f"Terminal error: {exc}.")


# The job URL -----------------------------------------------------------------

_TEMPLATE_FIELD = re.compile(r"{{\s*\.([A-Za-z.]+)\s*}}")


def job_url(job: ProwJob, build_id: str, config: ProwConfig) -> str:
    """plank.job_url_template when set (its simple {{.Spec.X}} and
    {{.Status.X}} fields), else the job's page in Deck."""
    template = config.plank.job_url_template
    if not template:
        return f"{settings.PROW_EXTERNAL_URL}/view/{job.name}"
    refs = job.refs or {}
    pulls = refs.get("pulls") or [{}]
    values = {
        "ObjectMeta.Name": str(job.name),
        "Spec.Job": job.job,
        "Spec.Type": job.type,
        "Spec.Refs.Org": refs.get("org", ""),
        "Spec.Refs.Repo": refs.get("repo", ""),
        "Spec.Refs.BaseRef": refs.get("base_ref", ""),
        "Status.BuildID": build_id,
        "Status.State": State.PENDING,
    }
    for index, pull in enumerate(pulls):
        values[f"Spec.Refs.Pulls.{index}.Number"] = str(pull.get("number", ""))
    return _TEMPLATE_FIELD.sub(lambda m: values.get(m.group(1), ""), template)


# Pending ---------------------------------------------------------------------


def _timeout(job: ProwJob, config: ProwConfig, name: str) -> timedelta:
    # A job's own decoration config overrides plank's default.
    value = (job.decoration_config or {}).get(name) or getattr(config.plank, name)
    return parse_duration(value)


def _sync_pending(job: ProwJob, config: ProwConfig) -> None:
    try:
        executor = executor_for(job.cluster)
    except ExecutorError as exc:
        _terminal(job, exc)
        return
    namespace, name = (
        job.namespace or config.pod_namespace,
        job.pod_name or str(job.name),
    )
    try:
        pod = executor.status(namespace, name)
    except ExecutorError as exc:
        logger.warning("job %s: cannot read its pod: %s", job.name, exc)
        return
    now = timezone.now()
    finish = partial(_finish, job, executor, namespace, name, pod=pod)

    if not pod.exists:
        _revive(job, config, executor, namespace, "the pod vanished")
        return
    if pod.deleting:
        _keep_logs(job, executor, namespace, name, complete=True)
        prowjob_transition(job, State.ERROR, description="Pod got deleted unexpectedly")
        return
    phase = pod.phase
    if phase == "Pending":
        _sync_not_started(job, config, finish, pod, now)
    elif phase == "Running":
        oom = any(c.reason == "OOMKilled" for c in pod.containers)
        if oom:
            finish(
                State.ERROR,
                "Job pod was OOM killed by the cluster.",
                delete=True,
            )
        elif pod.start_time and now - pod.start_time > _timeout(
            job, config, "pod_running_timeout"
        ):
            finish(
                State.ABORTED,
                "Pod running timeout.",
                delete=True,
            )
        else:
            _snapshot_logs(job, executor, namespace, name)
    elif phase == "Succeeded":
        clean = pod.containers and all(
            c.state == "terminated" and c.exit_code == 0 for c in pod.containers
        )
        if clean:
            finish(State.SUCCESS, "Job succeeded.")
        else:
            finish(
                State.ERROR,
                "Pod was in succeeded phase but some containers didn't finish",
            )
    elif phase == "Failed":
        if pod.reason == "Evicted":
            if job.error_on_eviction:
                finish(
                    State.ERROR,
                    "Job pod was evicted by the cluster.",
                )
            else:
                _revive(job, config, executor, namespace, "Evicted")
        elif pod.reason == "RunnerLost":
            finish(
                State.ERROR,
                "The process running the job's pod stopped unexpectedly.",
            )
        else:
            finish(State.FAILURE, "Job failed.")
    else:  # Unknown: the node stopped answering
        _revive(job, config, executor, namespace, f"pod phase {phase or 'Unknown'}")


def _sync_not_started(job, config, finish, pod: PodStatus, now) -> None:
    image = next((c for c in pod.containers if c.reason in IMAGE_ERRORS), None)
    if image is not None:
        finish(
            State.ERROR,
            f"The image can't be pulled: {image.reason}: {image.message}".rstrip(": "),
            delete=True,
        )
        return
    if not pod.scheduled:
        since = job.pending_time or job.start_time
        if now - since > _timeout(job, config, "pod_unscheduled_timeout"):
            finish(
                State.ERROR,
                "Pod scheduling timeout.",
                delete=True,
            )
        return
    if now - pod.start_time > _timeout(job, config, "pod_pending_timeout"):
        finish(
            State.ERROR,
            "Pod pending timeout.",
            delete=True,
        )


def _revive(
    job: ProwJob, config: ProwConfig, executor, namespace: str, cause: str
) -> None:
    """Make the pod again (new build id) after it was lost to the cluster,
    up to plank.max_revivals times."""
    if job.pod_revival_count >= config.plank.max_revivals:
        _finish(
            job,
            executor,
            namespace,
            job.pod_name or str(job.name),
            State.ERROR,
            f"Job pod reached max revivals ({config.plank.max_revivals}) after being "
            f"stopped unexpectedly ({cause})",
            delete=True,
        )
        return
    name = job.pod_name or str(job.name)
    _keep_logs(job, executor, namespace, name, complete=False)
    executor.delete(namespace, name)
    build_id = allocate_build_id(job.job)
    try:
        executor.create(_pod(job, build_id, namespace, config))
    except PodExists:
        return  # the old one is still going away; next sync tries again
    except ExecutorError as exc:
        if exc.permanent:
            prowjob_transition(
                job, State.ERROR, description=f"Pod can not be created: {exc}"
            )
        return
    prowjob_transition(
        job,
        State.PENDING,
        build_id=build_id,
        pod_revival_count=job.pod_revival_count + 1,
        url=job_url(job, build_id, config),
    )


def _finish(
    job, executor, namespace, name, state, description, *, delete=False, pod=None
) -> None:
    _keep_logs(job, executor, namespace, name, complete=True)
    fields = {}
    if pod is not None:
        _keep_pod_info(job, executor, pod)
        if pod.finish_time is not None:
            fields["completion_time"] = min(
                max(pod.finish_time, job.start_time), timezone.now()
            )
        # A short run can end before plank records the pod as created: the
        # runner's start time keeps the timeline in order.
        started = pod.start_time
        if started is not None and job.pending_time and started < job.pending_time:
            fields["pending_time"] = max(started, job.start_time)
    if delete:
        try:
            executor.delete(namespace, name)
        except ExecutorError as exc:
            logger.warning("job %s: pod not deleted: %s", job.name, exc)
    prowjob_transition(job, state, description=description, **fields)


def _keep_pod_info(job, executor, pod: PodStatus) -> None:
    """How the pod ended (each container's exit code and reason, and what
    ran it), kept as podinfo.json for the job page once the pod is gone."""
    info = {
        "executor": getattr(executor, "kind", ""),
        "phase": pod.phase,
        "reason": pod.reason,
        "message": pod.message,
        "containers": [
            {
                "name": c.name,
                "state": c.state,
                "exit_code": c.exit_code,
                "reason": c.reason,
                "message": c.message,
            }
            for c in pod.containers
        ],
    }
    artifact_store(
        job, POD_INFO, json.dumps(info), limit=POD_INFO_MAX_BYTES, complete=True
    )


def _clean_up_aborted(job: ProwJob) -> None:
    """An aborted job's pod is deleted, after its logs are kept."""
    try:
        executor = executor_for(job.cluster)
        namespace = job.namespace or active_config().config.pod_namespace
        if executor.status(namespace, job.pod_name).exists:
            _keep_logs(job, executor, namespace, job.pod_name, complete=True)
            executor.delete(namespace, job.pod_name)
    except ExecutorError as exc:
        logger.warning("job %s: aborted pod not cleaned up yet: %s", job.name, exc)


# Logs ------------------------------------------------------------------------


def container_names(job: ProwJob) -> tuple[str, list[str]]:
    """(the main container, every container whose log is kept), named as in
    the pod plank builds (a lone container is called "test")."""
    spec = job.pod_spec or {}
    containers = spec.get("containers") or []
    names = (
        ["test"] if len(containers) == 1 else [c.get("name", "") for c in containers]
    )
    if job.decoration_config is not None:
        names = [*names, "clonerefs"]
    return names[0] if names else "test", names


def _keep_logs(job, executor, namespace, name, *, complete: bool) -> None:
    main, names = container_names(job)
    limit = settings.PROW_LOG_MAX_BYTES
    # Artifacts first, so the main log can say which were left out.
    left_out: list[str] = []
    collect = getattr(executor, "artifacts", None)
    if complete and collect is not None:
        files = collect(
            namespace,
            name,
            settings.PROW_ARTIFACTS_MAX_BYTES,
            settings.PROW_ARTIFACTS_MAX_FILES,
        )
        left_out = [*getattr(files, "left_out", []), *store_job_artifacts(job, files)]
    for container in names:
        try:
            text = executor.logs(namespace, name, container, limit + 1)
        except ExecutorError as exc:
            logger.warning("job %s: log of %s not kept: %s", job.name, container, exc)
            continue
        if text or container == main:
            artifact_store(
                job,
                log_name(container, main=main),
                text,
                limit=limit,
                complete=complete,
                note=left_out_note(left_out) if container == main else "",
            )


def _snapshot_logs(job, executor, namespace, name) -> None:
    """While a job runs, copy its log now and then, so Deck shows progress
    and a pod lost mid-run still leaves something behind."""
    main, _ = container_names(job)
    last = (
        JobArtifact.objects.filter(job=job, name=log_name(main, main=main))
        .values_list("updated_at", flat=True)
        .first()
    )
    if last and timezone.now() - last < timedelta(
        seconds=settings.PROW_LOG_SNAPSHOT_SECONDS
    ):
        return
    _keep_logs(job, executor, namespace, name, complete=False)


# The resync tick -------------------------------------------------------------


def jobs_to_sync() -> list[int]:
    """Every job plank should look at: unfinished ones (triggered in the
    order they should start), and recently aborted ones whose pod may
    still be there."""
    recent = timezone.now() - timedelta(hours=1)
    pending = list(
        ProwJob.objects.filter(state=State.PENDING, agent="kubernetes")
        .order_by("id")
        .values_list("id", flat=True)
    )
    aborted = list(
        ProwJob.objects.filter(
            state=State.ABORTED, agent="kubernetes", completion_time__gte=recent
        )
        .exclude(pod_name="")
        .values_list("id", flat=True)
    )
    return [*pending, *fair_order(), *aborted]
