"""Keeping a job's logs in Django storage, so they outlive its pod."""

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, transaction

from jobs.models import JobArtifact, ProwJob

logger = logging.getLogger(__name__)

ARTIFACTS_FOLDER = "artifacts"
# JobArtifact.name and .file's column lengths.
NAME_MAX = JobArtifact._meta.get_field("name").max_length
PATH_MAX = JobArtifact._meta.get_field("file").max_length
# Most file systems refuse a path component over 255 bytes; storage may add
# a suffix to make a name unique, so leave it room.
COMPONENT_MAX = 200
# Lines of the log note naming left-out files; the rest are counted.
NOTE_LINES = 20

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
    job: ProwJob, name: str, text: str, *, limit: int, complete: bool, note: str = ""
) -> JobArtifact:
    """Save (or replace) one text artifact of job; `note` goes after the
    cap, so it is never the part cut off."""
    content, truncated = cap(text, limit)
    return _store(job, name, (content + note).encode("utf-8"), truncated, complete)


def artifact_store_bytes(job: ProwJob, name: str, data: bytes) -> JobArtifact:
    """Save a file the job produced, as it is."""
    return _store(job, name, data, False, True)


def store_job_artifacts(job: ProwJob, files: list[tuple[str, bytes]]) -> list[str]:
    """Keep the files a job left in $ARTIFACTS under artifacts/; returns a
    line for each file that could not be kept, for the job's log.

    Names come from the job, so anything a name can break (the name column,
    the storage path, a file system's limit on one path component) is
    checked here, and a file storage refuses is skipped: one bad file must
    not fail plank's sync of the job."""
    prefix = f"{ARTIFACTS_FOLDER}/"
    room = min(
        NAME_MAX - len(prefix),
        PATH_MAX - len(f"prowjobs/{job.name}/{prefix}"),
    )
    problems = []
    for relative, data in files:
        name = prefix + relative
        if len(relative) > room or any(
            len(part.encode()) > COMPONENT_MAX for part in relative.split("/")
        ):
            problems.append(f"{_shown(relative)}: name too long")
            continue
        try:
            # A savepoint: plank calls this inside the job's transaction.
            with transaction.atomic():
                _store(job, name, data, False, True)
        except (OSError, DatabaseError, ValueError) as exc:
            logger.warning("job %s: artifact %s not kept: %s", job.name, name, exc)
            problems.append(f"{_shown(relative)}: could not be stored")
    return problems


def left_out_note(reasons: list[str]) -> str:
    """What the job's log says about artifacts that were not kept."""
    if not reasons:
        return ""
    lines = "".join(f"  {reason}\n" for reason in reasons[:NOTE_LINES])
    if len(reasons) > NOTE_LINES:
        lines += f"  ... and {len(reasons) - NOTE_LINES} more\n"
    return (
        "\n\n[Some of this job's artifacts were not kept "
        "(limits: PROW_ARTIFACTS_MAX_FILES, PROW_ARTIFACTS_MAX_BYTES, "
        f"names up to {COMPONENT_MAX} bytes per part):\n{lines}]\n"
    )


def _shown(relative: str) -> str:
    return relative if len(relative) <= 120 else relative[:117] + "..."


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
