"""Keeping a job's logs in Django storage, so they outlive its pod."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from jobs.models import JobArtifact, ProwJob

TRUNCATION_NOTE = (
    "\n\n[This log was longer than {limit} bytes; only its beginning was kept. "
    "Raise PROW_LOG_MAX_BYTES to keep more.]\n"
)


def cap(text: str, limit: int) -> tuple[str, bool]:
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text, False
    kept = data[:limit].decode("utf-8", "ignore")
    return kept + TRUNCATION_NOTE.format(limit=limit), True


def log_name(container: str, *, main: str) -> str:
    """build-log.txt for the job's main container, as the original names it."""
    return "build-log.txt" if container == main else f"{container}-log.txt"


def artifact_store(
    job: ProwJob, name: str, text: str, *, limit: int, complete: bool
) -> JobArtifact:
    """Save (or replace) one text artifact of job."""
    content, truncated = cap(text, limit)
    return _store(job, name, content.encode("utf-8"), truncated, complete)


def artifact_store_bytes(job: ProwJob, name: str, data: bytes) -> JobArtifact:
    """Save a file the job produced, as it is."""
    return _store(job, name, data, False, True)


def _store(job: ProwJob, name: str, data: bytes, truncated: bool, complete: bool):
    path = f"prowjobs/{job.name}/{name}"
    # Storage never overwrites; replace the old copy explicitly.
    if default_storage.exists(path):
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(data))
    fields = {
        "file": saved,
        "size": len(data),
        "truncated": truncated,
        "complete": complete,
    }
    try:
        with transaction.atomic():
            artifact, created = JobArtifact.objects.get_or_create(
                job=job, name=name, defaults=fields
            )
    except IntegrityError:
        artifact, created = JobArtifact.objects.get(job=job, name=name), False
    if not created:
        JobArtifact.objects.filter(pk=artifact.pk).update(**fields)
        artifact.refresh_from_db()
    return artifact


def artifact_text(artifact: JobArtifact) -> str:
    with default_storage.open(artifact.file.name, "rb") as handle:
        return handle.read().decode("utf-8", "replace")
