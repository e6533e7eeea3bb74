"""Sinker: garbage collection of old ProwJobs, their pods and logs (spec
§7.4). Old webhook deliveries are hook's to delete (hook.retention).

What goes, with the defaults (config.yaml's `sinker` section, spec §3.8):

- complete ProwJobs that started more than max_prowjob_age (168h) ago, with
  their artifact rows and stored files, except the newest complete run of
  each periodic still in the config; never a job that has not finished;
- pods labelled created-by-prow=true in pod_namespace, on every build
  cluster but exclude_clusters, whose job is complete and either the pod
  was created more than max_pod_age (24h) ago or the job completed more
  than terminated_pod_ttl (= max_pod_age) ago; pods with no ProwJob row,
  once 30 seconds old.

Rows are read and deleted in batches of primary keys, each resuming after
the last key seen rather than from the start, so a table of millions of
rows is read once, in pieces, and never held in memory. A session advisory
lock keeps two sweeps from running at once; an overlapping one finds the
lock taken and returns at once.
"""

import logging
import os
import posixpath
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from kubernetes import config as kube_config

from jobs.executors import cluster_configured, executor_for
from jobs.executors.base import ExecutorError, PodSummary
from jobs.executors.kubernetes import known_clusters
from jobs.labels import CREATED_BY_PROW, ID_LABEL
from jobs.models import JobArtifact, ProwJob, ProwJobType
from prow.config.active import active_config
from prow.config.durations import parse_duration
from prow.config.schema import ProwConfig
from prow.locks import session_try_lock

logger = logging.getLogger(__name__)

BATCH_SIZE = 5_000
# Pods whose jobs are looked up in one query.
POD_LOOKUP_BATCH = 1_000
# A pod this young with no ProwJob row may belong to a job whose row is not
# visible yet; the original waits the same 30 seconds.
ORPHAN_GRACE = timedelta(seconds=30)
# How many names each list of the report keeps: enough to check a dry run
# by eye, bounded however much would go.
SAMPLE_LIMIT = 100
LOCK_NAME = "sinker:sweep"
ALREADY_RUNNING = "another sweep is already running"


@dataclass
class SweepReport:
    """What a sweep deleted (or, for a dry run, would delete).

    Counts are complete; the name lists keep the first SAMPLE_LIMIT only.
    `skipped` says why nothing was looked at.
    """

    dry_run: bool = False
    skipped: str = ""
    prowjobs: int = 0
    artifacts: int = 0
    pods: int = 0
    orphan_pods: int = 0
    prowjob_names: list[str] = field(default_factory=list)
    pod_names: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0

    def summary(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        verb = "would delete" if self.dry_run else "deleted"
        text = (
            f"{verb} {self.prowjobs} prowjobs ({self.artifacts} stored files), "
            f"{self.pods} pods ({self.orphan_pods} orphaned)"
        )
        if self.error_count:
            text += f"; {self.error_count} errors"
        return text

    def sample(self, names: list[str], name: str) -> None:
        if len(names) < SAMPLE_LIMIT:
            names.append(name)

    def error(self, message: str) -> None:
        # Storage or a cluster being down fails every item alike: the first
        # errors tell the story, the count says how far it went.
        self.error_count += 1
        if len(self.errors) < SAMPLE_LIMIT:
            logger.warning("sinker: %s", message)
        self.sample(self.errors, message)


@dataclass(frozen=True)
class _Ages:
    max_prowjob_age: timedelta
    max_pod_age: timedelta
    terminated_pod_ttl: timedelta

    @classmethod
    def from_config(cls, config: ProwConfig) -> "_Ages":
        sinker = config.sinker
        max_pod_age = parse_duration(sinker.max_pod_age)
        ttl = sinker.terminated_pod_ttl
        return cls(
            max_prowjob_age=parse_duration(sinker.max_prowjob_age),
            max_pod_age=max_pod_age,
            terminated_pod_ttl=parse_duration(ttl) if ttl else max_pod_age,
        )


def sweep(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
) -> SweepReport:
    """Delete old complete ProwJobs (with their stored files), the pods of
    finished jobs and orphaned pods. With dry_run, only report what would
    go."""
    now = now or timezone.now()
    report = SweepReport(dry_run=dry_run)
    # A session lock, not a transaction one: the sweep commits batch by
    # batch and must hold the lock across all of them.
    with session_try_lock(LOCK_NAME) as acquired:
        if not acquired:
            report.skipped = ALREADY_RUNNING
            logger.info("sinker: %s", report.summary())
            return report
        config = active_config().config
        ages = _Ages.from_config(config)
        _sweep_prowjobs(report, config, now - ages.max_prowjob_age, batch_size)
        _sweep_pods(report, config, ages, now)
    logger.info("sinker: %s", report.summary())
    return report


def _batches(
    queryset: QuerySet, fields: tuple[str, ...], size: int
) -> Iterator[list[tuple]]:
    """Rows (pk, *fields) of queryset in pk order, size at a time.

    Each batch resumes after the last pk of the one before, so rows deleted
    meanwhile are not scanned again, and a dry run, which deletes nothing,
    still moves on.
    """
    last = 0
    while True:
        rows = list(
            queryset.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", *fields)[:size]
        )
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = rows[-1][0]


# ProwJobs --------------------------------------------------------------------


def newest_periodic_runs(config: ProwConfig) -> set[int]:
    """The newest complete run of every periodic in the config: horologium
    reads it to tell when the periodic is next due, so it is never deleted.
    A periodic removed from the config loses this protection."""
    keep = set()
    for periodic in config.periodics:
        pk = (
            ProwJob.objects.filter(
                type=ProwJobType.PERIODIC,
                job=periodic.name,
                completion_time__isnull=False,
            )
            .order_by("-start_time", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if pk is not None:
            keep.add(pk)
    return keep


def _sweep_prowjobs(
    report: SweepReport, config: ProwConfig, cutoff: datetime, batch_size: int
) -> None:
    keep = newest_periodic_runs(config)
    old = ProwJob.objects.filter(completion_time__isnull=False, start_time__lt=cutoff)
    for rows in _batches(old, ("job", "name"), batch_size):
        doomed = [row for row in rows if row[0] not in keep]
        if not doomed:
            continue
        ids = [pk for pk, _, _ in doomed]
        if report.dry_run:
            report.artifacts += JobArtifact.objects.filter(job_id__in=ids).count()
            report.prowjobs += len(ids)
        else:
            files, failed = _delete_stored_files(ids, report)
            report.artifacts += files
            if failed and not files:
                # Not one file went: storage is down. Jobs keep their rows,
                # so the files are found again on the next sweep.
                report.error("storage refuses deletions; stopped deleting jobs")
                return
            doomed = [row for row in doomed if row[0] not in failed]
            report.prowjobs += _delete_jobs([row[0] for row in doomed])
        for _, job, name in doomed:
            report.sample(report.prowjob_names, f"{job}/{name}")


def _delete_jobs(ids: list[int]) -> int:
    """Delete these jobs and their artifact rows; returns how many jobs went.

    Django's cascade would load the jobs and delete them 100 at a time, 50
    statements per batch; while artifacts are all that refer to a job, one
    statement per table does the same.
    """
    if not ids:
        return 0
    referrers = {rel.related_model for rel in ProwJob._meta.related_objects}
    with transaction.atomic():
        if referrers != {JobArtifact}:
            # Something new refers to jobs: let Django apply its on_delete.
            _, per_model = ProwJob.objects.filter(pk__in=ids).only("pk").delete()
            return per_model.get(ProwJob._meta.label, 0)
        JobArtifact.objects.filter(job_id__in=ids).delete()
        table = connection.ops.quote_name(ProwJob._meta.db_table)
        column = connection.ops.quote_name(ProwJob._meta.pk.column)
        marks = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", ids)
            return cursor.rowcount


def _delete_stored_files(
    job_ids: list[int], report: SweepReport
) -> tuple[int, set[int]]:
    """Remove the stored files of these jobs' artifacts; the rows go with
    the jobs. Returns (files removed, ids of jobs whose files could not all
    be removed): those stay for the next sweep, or their files would be
    left behind with nothing pointing at them."""
    removed, failed, folders = 0, set(), set()
    artifacts = (
        JobArtifact.objects.filter(job_id__in=job_ids)
        .exclude(file="")
        .values_list("job_id", "file")
    )
    for job_id, name in artifacts.iterator(chunk_size=2_000):
        try:
            default_storage.delete(name)
        except Exception as exc:  # any storage backend, any failure
            failed.add(job_id)
            report.error(f"stored file {name} not deleted: {exc}")
            continue
        removed += 1
        folders.add(posixpath.dirname(name))
    _remove_empty_folders(folders)
    return removed, failed


def _remove_empty_folders(folders: set[str]) -> None:
    # Each job's files sit in a folder of their own (prowjobs/<name>/); on a
    # local disk the folder outlives its files and a million empty folders
    # would pile up. Object stores have no folders (path() is not there).
    for folder in folders:
        try:
            path = default_storage.path(folder)
        except NotImplementedError:
            return
        with suppress(OSError):  # not empty, or already gone
            os.rmdir(path)


# Pods ------------------------------------------------------------------------


def build_clusters(config: ProwConfig) -> list[str]:
    """The build clusters whose pods sinker looks at: every configured one
    but sinker.exclude_clusters; with none configured, the local executor's
    pods, as cluster "default"."""
    excluded = set(config.sinker.exclude_clusters)
    if not cluster_configured():
        return [] if "default" in excluded else ["default"]
    clusters = known_clusters(settings.KUBECONFIG)
    current = None
    if settings.KUBECONFIG:
        _, active = kube_config.list_kube_config_contexts(settings.KUBECONFIG)
        current = active["name"]
    if current and current != "default" and current in clusters:
        # "default" is the current context under a second name: one cluster,
        # listed once, and excluded if either of its names is.
        clusters.discard("default")
        if "default" in excluded:
            excluded.add(current)
    return sorted(clusters - excluded)


def _sweep_pods(
    report: SweepReport, config: ProwConfig, ages: _Ages, now: datetime
) -> None:
    namespace = config.pod_namespace
    try:
        clusters = build_clusters(config)
    except kube_config.ConfigException as exc:
        report.error(f"KUBECONFIG not usable: {exc}")
        return
    for cluster in clusters:
        try:
            executor = executor_for(cluster)
            pods = executor.list_pods(namespace, f"{CREATED_BY_PROW}=true")
        except ExecutorError as exc:
            report.error(f"cluster {cluster}: pods not listed: {exc}")
            continue
        for chunk in _chunks(pods, POD_LOOKUP_BATCH):
            completed = _completion_times(chunk)
            for pod in chunk:
                verdict = _pod_verdict(pod, completed, ages, now)
                if verdict is None:
                    continue
                if not report.dry_run:
                    try:
                        executor.delete(namespace, pod.name)
                    except ExecutorError as exc:
                        report.error(f"pod {cluster}/{pod.name} not deleted: {exc}")
                        continue
                report.pods += 1
                report.orphan_pods += verdict == "orphan"
                report.sample(
                    report.pod_names, f"{cluster}/{namespace}/{pod.name} ({verdict})"
                )


def _chunks(items: list, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _job_name(pod: PodSummary) -> uuid.UUID | None:
    """The name of the pod's ProwJob: its id label, else the pod's name
    (plank names the pod after the job). None when that is no job name."""
    try:
        return uuid.UUID(pod.labels.get(ID_LABEL) or pod.name)
    except ValueError:
        return None


def _completion_times(pods) -> dict[uuid.UUID, datetime | None]:
    """Job name -> completion time (None while it runs), for the pods' jobs
    that have a row; one query for the lot."""
    names = {name for pod in pods if (name := _job_name(pod)) is not None}
    return dict(
        ProwJob.objects.filter(name__in=names).values_list("name", "completion_time")
    )


def _pod_verdict(
    pod: PodSummary, completed: dict, ages: _Ages, now: datetime
) -> str | None:
    """Why the pod should go ("orphan", "max_pod_age", "terminated_pod_ttl"),
    or None to keep it. A pod of an unfinished job is always kept."""
    name = _job_name(pod)
    if name not in completed:
        if pod.created is not None and now - pod.created > ORPHAN_GRACE:
            return "orphan"
        return None
    completion_time = completed[name]
    if completion_time is None:
        return None
    if pod.created is not None and now - pod.created > ages.max_pod_age:
        return "max_pod_age"
    if now - completion_time > ages.terminated_pod_ttl:
        return "terminated_pod_ttl"
    return None
